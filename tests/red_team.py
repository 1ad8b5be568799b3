"""The project's red-team table: support-chat turns that carry a secret or a piece of PII, and the
secret itself, which must never reach the prediction log, a tracer or a span. Both tiers' tests
read it; every value is made up.

``leaked`` says what of a secret got through: any 8 characters of it in a row, any 6 of its digits
in a row (read through separators, as a reader would), or all of it when it is shorter.
"""

import unicodedata
from typing import NamedTuple


class Case(NamedTuple):
    kind: str
    turn: str
    secret: str


def _cases(kind: str, *pairs: tuple[str, str]) -> list[Case]:
    return [Case(kind, turn, secret) for turn, secret in pairs]


ZWJ, ZWSP, SHY, STRIKE, EN_DASH = "\u200d", "\u200b", "\u00ad", "\u0336", "\u2013"


def _struck(text: str) -> str:
    """``text`` with a combining long stroke on every character, as some chat apps send it."""
    return "".join(c + STRIKE for c in text)


def _fullwidth(text: str) -> str:
    """``text`` in fullwidth forms, as East Asian keyboards type it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


CASES = [
    *_cases(
        "password, English",
        ("hi, my password is: Velvet#Otter91 and it says invalid", "Velvet#Otter91"),
        ("the password for my account is Mango!Tree2290, please check", "Mango!Tree2290"),
        (
            "I changed my password to Copper$Kettle7 yesterday and now I'm locked out",
            "Copper$Kettle7",
        ),
        ("username mbarnes password Q7vX!pL2wz", "Q7vX!pL2wz"),
        ("pw: blu3Marlin_88 (the old one)", "blu3Marlin_88"),
        ("password - Harbor&Light4433", "Harbor&Light4433"),
        ("password: 'stormy weather 99'", "stormy weather 99"),
        ("my new password is now Gl4cier#Peak, does it sync?", "Gl4cier#Peak"),
        ("the wifi password is Lantern_5580 btw", "Lantern_5580"),
        ("I set the password to 90817263 as the agent told me", "90817263"),
        ("login: rhea.k, pwd: Tundra%6612", "Tundra%6612"),
        ("DB_PASSWORD=Pl4typ#sNest in my .env, is that why?", "Pl4typ#sNest"),
        ('{"user": "ops", "password": "Kayak^Drift31"} is the payload', "Kayak^Drift31"),
        ("my passphrase is: amber-falcon-rides-north", "amber-falcon-rides-north"),
        ("the admin password was Sunset@Pier2019 until you reset it", "Sunset@Pier2019"),
        ("Password:Quokka77Jump", "Quokka77Jump"),
        ("temp password from the email is Xk29!vbN, it expired", "Xk29!vbN"),
        ("my pass is Ferret_4471 and it won't take it", "Ferret_4471"),
        ("passcode: 55190247 doesn't open the app", "55190247"),
        ("my password for the portal is still Orchid#5512 right?", "Orchid#5512"),
    ),
    *_cases(
        "password, other languages",
        ("Mein Passwort ist Schnee#Fuchs42 und geht nicht", "Schnee#Fuchs42"),
        ("Passwort: Wolke7Regen!, bitte prüfen", "Wolke7Regen!"),
        ("das Kennwort lautet Birke_2291", "Birke_2291"),
        ("mon mot de passe est Lavande#73, ça ne marche pas", "Lavande#73"),
        ("mot de passe : Renard-bleu88", "Renard-bleu88"),
        ("mi contraseña es Tortuga$515 y no entra", "Tortuga$515"),
        ("contraseña: Girasol_8802", "Girasol_8802"),
        ("la mia password è Gelato!2024, cosa faccio?", "Gelato!2024"),
        ("la password del mio account è Vespa_7719", "Vespa_7719"),
        ("minha senha é Caju#3381 e não funciona", "Caju#3381"),
        ("senha: Farol2090!", "Farol2090!"),
        ("mijn wachtwoord is Tulp!6620 maar het werkt niet", "Tulp!6620"),
        ("wachtwoord: Molen_4455", "Molen_4455"),
        ("мой пароль Берёза#2417 не подходит", "Берёза#2417"),
        ("пароль: Сокол_9031", "Сокол_9031"),
        ("le mot de passe de mon compte est maintenant Citron%61", "Citron%61"),
    ),
    *_cases(
        "connection string",
        (
            "postgresql://admin:Rh0d0dendron@localhost:5432/app stopped working",
            "admin:Rh0d0dendron",
        ),
        ("redis://:Zephyr!Cache77@cache:6379 refuses connections", "Zephyr!Cache77"),
        (
            "mongodb+srv://svc_etl:Quartz9Lake@cluster0.x7k2p.mongodb.net/prod",
            "svc_etl:Quartz9Lake",
        ),
        ("mysql://root:Pa$$w0rd2@db.internal:3306/shop times out", "root:Pa$$w0rd2"),
        ("amqp://worker:Heron_5521@rabbit:5672/ keeps dropping", "worker:Heron_5521"),
        ("the DSN is postgres://report:Walnut#88@10.0.4.2/bi", "report:Walnut#88"),
        ("ftp://upload:Marble77x@files.example.net/in fails", "upload:Marble77x"),
        ("smtp://alerts:Cobalt!3@mail.example.org:587 bounces", "alerts:Cobalt!3"),
    ),
    *_cases(
        "one-time code",
        ("the code is 481930 and it says expired", "481930"),
        ("verification code: 660 218 didn't work", "660218"),
        ("OTP 739105, can you check it?", "739105"),
        ("my 2FA code 552871 is rejected every time", "552871"),
        ("the SMS code you sent me was 908172", "908172"),
        ("I typed the code 314159 twice", "314159"),
        ("your one-time code 7720 never arrived, then 6618 did", "7720"),
        ("login code: 44-19-83", "441983"),
        ("authentication code 270615 invalid?", "270615"),
        ("Bestätigungscode 839201 funktioniert nicht", "839201"),
        ("code de vérification : 517340", "517340"),
        ("el código de verificación es 662901", "662901"),
        ("il codice di verifica è 448376", "448376"),
        ("o código de verificação 991027 não chega", "991027"),
        ("verificatiecode 305918 klopt niet", "305918"),
        ("код подтверждения: 770341", "770341"),
        ("the backup code is 80417325", "80417325"),
        ("mfa: 129384", "129384"),
    ),
    *_cases(
        "security code",
        ("card 4242 4242 4242 4242 exp 11/28 cvv 317", "317"),
        ("CVC2: 904 and it still declines", "904"),
        ("the security code on the back is 5521", "5521"),
        ("cvv 268, expiry 03/29", "268"),
        ("mi tarjeta, código de seguridad 731", "731"),
        ("Sicherheitscode 482 wurde abgelehnt", "482"),
    ),
    *_cases(
        "PIN",
        ("my PIN number is 8352, the machine ate my card", "8352"),
        ("PIN 6074 doesn't work anymore", "6074"),
        ("the PIN for my debit card is 3918", "3918"),
        ("PIN-Code 2749, bitte sperren", "2749"),
        ("mon code PIN est 5163", "5163"),
        ("meine PIN ist 7406", "7406"),
        ("mijn pincode is 1987, klopt dat?", "1987"),
        ("I reset my pin to 46021 like you said", "46021"),
    ),
    *_cases(
        "spelt e-mail",
        ("write to marta.keller at gmail dot com please", "marta.keller"),
        ("my email is tj_oduya[at]outlook.com", "tj_oduya"),
        ("contact r.santos @ proton.me for the invoice", "r.santos"),
        ("send it to lena dot brandt at web dot de", "lena dot brandt"),
        ("ivo.petrov (at) yandex (dot) ru is mine", "ivo.petrov"),
        ("escríbeme a lucia.mora arroba correo punto es", "lucia.mora"),
        ("j.dubois arobase orange point fr", "j.dubois"),
        ("billing: kenji.sato{at}example{dot}jp", "kenji.sato"),
        ("ping hkaur<at>company.co.uk", "hkaur"),
        ("reach me at ALEX.W AT ICLOUD DOT COM", "ALEX.W"),
    ),
    *_cases(
        "invisible characters",
        (f"card 4539{ZWJ}1488{ZWJ}0343{ZWJ}6467 was charged twice", "4539148803436467"),
        (f"my card is {_struck('5425 2334 3010 9903')}", "5425233430109903"),
        (f"call me on 0{ZWSP}7{ZWSP}7{ZWSP}00 900 123", "07700900123"),
        (f"text {_struck('(415) 555-0198')} after 5", "4155550198"),
        (f"mail hannah{ZWJ}.lee@exam{SHY}ple.org", "hannah.lee@example.org"),
        (f"my iban is GB29{ZWJ}NWBK{ZWJ}6016{ZWJ}1331{ZWJ}9268{ZWJ}19", "GB29NWBK60161331926819"),
        (f"SSN 219{ZWSP}-09{ZWSP}-9999", "219099999"),
        (f"verification code: 4{STRIKE}8{STRIKE}2{STRIKE}9{STRIKE}1{STRIKE}3", "482913"),
        (f"pass{ZWJ}word: Nimbus#4410", "Nimbus#4410"),
        (f"key sk-proj-{ZWSP}R4nd0mK3yV4lu3Th4tL00ksR34l9x", "R4nd0mK3yV4lu3Th4tL00ksR34l9x"),
    ),
    *_cases(
        "grouping",
        ("card 4916/3380/5511/2089 declined", "4916338055112089"),
        ("IBAN DE44.5001.0517.5407.3249.31 for the refund", "DE44500105175407324931"),
        ("card 5555.5555.5555.4444 on file", "5555555555554444"),
        ("iban fr14 2004 1010 0505 0001 3m02 606", "FR1420041010050500013M02606"),
    ),
    *_cases(
        "API key",
        (
            "my key sk-proj-T9xQm2Lw8Zr4Kp7Vn1Bc6Ds3Fh5Jg0Ya stopped working",
            "T9xQm2Lw8Zr4Kp7Vn1Bc6Ds3Fh5Jg0Ya",
        ),
        (
            "sk-ant-api03-Pq8Rs7Tu6Vw5Xy4Za3Bc2De1Fg0Hi leaked in a log",
            "Pq8Rs7Tu6Vw5Xy4Za3Bc2De1Fg0Hi",
        ),
        ("stripe sk_live_51Hx9Qk2Lm7Np4Rt8Vw3Yz charged twice", "51Hx9Qk2Lm7Np4Rt8Vw3Yz"),
        (
            "ghp_Xa7Lk2Pq9Zr4Mv8Nt1Bw6Cy3Ds5Fh0Jg2Kq is my token",
            "Xa7Lk2Pq9Zr4Mv8Nt1Bw6Cy3Ds5Fh0Jg2Kq",
        ),
        ("AKIAZ7QK4LM2NP8RT5VW is flagged by AWS", "AKIAZ7QK4LM2NP8RT5VW"),
        (
            "AIzaSyB7-k2Lm9Qp4Rt8Vw3Yz6Ab1Cd5Ef0Gh2Ij quota exceeded",
            "AIzaSyB7-k2Lm9Qp4Rt8Vw3Yz6Ab1Cd5Ef0Gh2Ij",
        ),
        ("glpat-Zx8Cv7Bn6Mq5Wr4Et3Yu expired", "Zx8Cv7Bn6Mq5Wr4Et3Yu"),
        ("hf_Qw7Er6Ty5Ui4Op3As2Df1Gh0JkLzXcVb won't download", "Qw7Er6Ty5Ui4Op3As2Df1Gh0JkLzXcVb"),
        (
            "xoxb-902183746521-5566778899001-Rt7Yu6Io5Pa4Sd3Fg2Hj1Kl bot is dead",
            "Rt7Yu6Io5Pa4Sd3Fg2Hj1Kl",
        ),
        ("api_key = 'c8f1d2e7a9b3c4d5e6f7a8b9c0d1e2f3'", "c8f1d2e7a9b3c4d5e6f7a8b9c0d1e2f3"),
        ("the token is Bearer t0k_Lm9Np8Qr7St6Uv5Wx4", "t0k_Lm9Np8Qr7St6Uv5Wx4"),
        ("client_secret: Gh5Jk6Lz7Xc8Vb9Nm0Qw1", "Gh5Jk6Lz7Xc8Vb9Nm0Qw1"),
    ),
    *_cases(
        "JWT and random token",
        (
            "my session eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQ0MTkifQ.Xk2_9LmQpR7sT0vW expired",
            "eyJzdWIiOiJ1c2VyLTQ0MTkifQ",
        ),
        (
            "reset token 7f3a9c1e5b2d8f4a6c0e9b1d3f5a7c9e didn't work",
            "7f3a9c1e5b2d8f4a6c0e9b1d3f5a7c9e",
        ),
        ("session id 9b2e4c71-3f8a-4d6b-a1c5-7e9f0d2b4a68 is stuck", "9b2e4c71-3f8a-4d6b-a1c5"),
        ("secret wQ8+eR7/tY6=uI5pO4aS3dF2gH1jK0lZ here", "wQ8+eR7/tY6=uI5pO4aS3dF2gH1jK0lZ"),
    ),
    *_cases(
        "e-mail and URL",
        ("email me at priya.nair+orders@example.co.uk", "priya.nair+orders"),
        ("my address is T.O'Neill@mail.example.com", "O'Neill@mail"),
        ("is wei.zhang@university.edu.cn blocked?", "wei.zhang"),
        ("from: b.okafor_1988@gmx.net", "b.okafor_1988"),
        ("the reset link https://shop.example.com/reset?token=8a7b6c5d4e3f", "8a7b6c5d4e3f"),
        ("open example.org/verify?key=Qm3Np9Rt7 please", "Qm3Np9Rt7"),
        ("https://jsmith:Tr0mbone@intranet.example.com/wiki", "jsmith:Tr0mbone"),
        (f"write to {_fullwidth('mario@example.it')}", "mario"),
    ),
    *_cases(
        "IBAN",
        ("refund to GB33 BUKB 2020 1555 5555 55 please", "GB33BUKB20201555555555"),
        ("my IBAN is DE75512108001245126199", "DE75512108001245126199"),
        ("IBAN: FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189"),
        ("es91-2100-0418-4502-0005-1332 is the account", "ES9121000418450200051332"),
        ("NL91 ABNA 0417 1643 00, name J. de Vries", "NL91ABNA0417164300"),
        ("IT60 X054 2811 1010 0000 0123 456 for the refund", "IT60X0542811101000000123456"),
    ),
    *_cases(
        "card",
        ("charged twice on 4012 8888 8888 1881!!", "4012888888881881"),
        ("card number 5105-1051-0510-5100", "5105105105105100"),
        ("amex 3714 496353 98431 declined", "371449635398431"),
        ("my visa is 4000056655665556", "4000056655665556"),
        ("discover 6011 1111 1111 1117 works?", "6011111111111117"),
        ("card ending... no wait, full number 2223 0031 2200 3222", "2223003122003222"),
        (f"mastercard {_fullwidth('5555 5555 5555 4444')}", "5555555555554444"),
        (f"order 1042 paid with 4111{EN_DASH}1111{EN_DASH}1111{EN_DASH}1111", "4111111111111111"),
    ),
    *_cases(
        "phone",
        ("call me on +44 7700 900461 after 6", "7700900461"),
        ("my number is (415) 555-0132", "4155550132"),
        ("ring 020 7946 0321 and ask for Sam", "02079460321"),
        ("rappelez-moi au 06 45 78 12 90", "0645781290"),
        ("Handy 0151 23456789, Festnetz 030/9876543", "015123456789"),
        ("mi móvil es 612 345 678", "612345678"),
        ("chiamami al 347 765 4321", "3477654321"),
        ("meu celular é (21) 98765-4321", "21987654321"),
        ("llámame al (55) 4321 8765", "5543218765"),
        ("mob 0412 555 019 cheers", "0412555019"),
        ("call me 98450 12345 anytime", "9845012345"),
        ("+1-212-555-0187 is my office", "2125550187"),
        ("+33 6 98 76 54 32 (mobile)", "698765432"),
        ("text 6465550123 when it ships", "6465550123"),
        ("+49 30 901820 is the office line", "3090182"),
        ("my whatsapp is +91 98201 55443", "9820155443"),
        ("call 212.555.0119 please", "2125550119"),
        ("+61 2 9374 4000 sydney office", "293744000"),
        ("phone: +52 1 55 1234 5678", "5512345678"),
        ("my cell is 07911 987654", "07911987654"),
    ),
    *_cases(
        "SSN, IP and MAC",
        ("my SSN is 219-09-9999, is it exposed?", "219099999"),
        ("ssn 536 44 8216 on the form", "536448216"),
        ("my home IP is 203.0.113.77, am I banned?", "203.0.113.77"),
        ("the server 2001:db8:4006:812::200e is down", "2001:db8:4006:812"),
        ("router MAC 3C:22:FB:9A:41:07 keeps dropping", "3C:22:FB:9A:41:07"),
        ("from 198.51.100.23 I get a 403", "198.51.100.23"),
    ),
]


def _plain(text: str) -> str:
    """``text`` as a reader sees it: NFKC, zero-width characters and combining marks dropped."""
    kept = (c for c in text if unicodedata.category(c) not in ("Cf", "Mn", "Me"))
    return unicodedata.normalize("NFKC", "".join(kept))


def _digits(text: str) -> str:
    return "".join(str(unicodedata.digit(c)) for c in text if c.isdigit())


def leaked(secret: str, text: str) -> list[str]:
    """The runs of ``secret`` that ``text`` shows; see the module docstring."""
    secret, text = _plain(secret), _plain(text)
    width = min(8, len(secret))
    runs = [secret[i : i + width] for i in range(len(secret) - width + 1)]
    found = [run for run in runs if run.casefold() in text.casefold()]
    digits, shown = _digits(secret), _digits(text)
    width = min(6, len(digits))
    if digits:
        found += [
            d for i in range(len(digits) - width + 1) if (d := digits[i : i + width]) in shown
        ]
    return found
