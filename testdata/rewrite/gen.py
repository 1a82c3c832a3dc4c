# Regenerates the .eml fixtures: python3 gen.py (deterministic).
import base64, codecs

def jis_word(s):
    return "=?ISO-2022-JP?B?" + base64.b64encode(s.encode("iso2022_jp")).decode() + "?="

def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")

def write(name, data, eol="\r\n"):
    if isinstance(data, str):
        data = data.encode("ascii") if eol == "\n" else crlf(data).encode("ascii")
    open(name, "wb").write(data)

def b64lines(b):
    e = base64.b64encode(b).decode()
    return "\n".join(e[i:i+76] for i in range(0, len(e), 76))

subject = jis_word("【社外秘】見積書の送付について")
body_jis = "お世話になっております。\n見積書を送付します。\nよろしくお願いいたします。\n".encode("iso2022_jp").decode("ascii")

# Folded To with 20 external and 2 internal mailboxes.
to = []
for i in range(20):
    if i == 3:
        to.append(jis_word("山田 太郎") + " <taro.yamada@partner.co.jp>")
    elif i == 7:
        to.append('"Suzuki, Ichiro" <ichiro@client%d.example.net>' % i)
    elif i == 11:
        to.append("user%d@vendor.jp (Vendor desk)" % i)
    else:
        to.append("External %d <ext%d@partner%d.co.jp>" % (i, i, i % 4))
    if i == 5:
        to.append(jis_word("佐藤 花子") + " <hanako.sato@example.com>")
    if i == 14:
        to.append("boss@sales.example.com")
tofield = "To: " + ",\n ".join(to)
write("bcc-folded.eml", f"""Return-Path: <sender@example.com>
Received: from mail.example.com (mail.example.com [192.0.2.10])
\tby gw.example.com with ESMTP id ABC123
\tfor <ext0@partner0.co.jp>; Mon, 23 Nov 2026 10:00:00 +0900
From: {jis_word("送信 者")} <sender@example.com>
{tofield}
Cc: Partner Manager <manager@partner.co.jp>
Subject: {subject}
Date: Mon, 23 Nov 2026 10:00:00 +0900
Message-ID: <folded-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit
X-Odd-Header:   keeps   its   spacing\t

{body_jis}""")

write("bcc-groups.eml", """From: sender@example.com
To: Project Team: alice@partner.co.jp, bob@example.com;,
  carol@other.jp, "Dan (internal)" <dan@example.com>
To: Extra: zed@far.example.org;
cc: Externals: x@y.jp, (comment) z@w.jp;, undisclosed-recipients:;
Subject: groups
Date: Mon, 23 Nov 2026 10:00:00 +0900
Message-ID: <groups-1@example.com>

body line 1
body line 2 with --boundary-like text
""", eol="\n")

write("bcc-all-external.eml", """From: sender@example.com
To: a@partner.co.jp
To: b@partner.co.jp, =?UTF-8?B?5bGx55Sw?= <c@client.jp>
Cc: d@client.jp
Subject: all external
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

hello
""")

write("bcc-broken.eml", """From: sender@example.com
To: "Unterminated <broken@partner.co.jp>, ok@example.com
Cc: Good <good@partner.co.jp>, internal@example.com
Subject: broken
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

hello
""")

# --- EncryptAttachments fixtures ---
import random, urllib.parse
rnd = random.Random(42)
def rbytes(n): return bytes(rnd.getrandbits(8) for _ in range(n))

csv_sjis = ("氏名,住所,電話\r\n" + "".join("顧客%d,東京都千代田区%d-1,03-1234-%04d\r\n" % (i, i, i) for i in range(40))).encode("shift_jis")
pdf = b"%PDF-1.4\n" + rbytes(3000) + b"\n%%EOF\n"
name_csv = "顧客リスト.csv"
name_pdf = "見積書　2026年度.pdf"
name_xlsx = "売上報告（第3四半期）.xlsx"
jis_name_csv = jis_word(name_csv)
pct_pdf = urllib.parse.quote(name_pdf.encode("utf-8"), safe="")
jis_bytes = name_xlsx.encode("iso2022_jp")
pct_x = urllib.parse.quote(jis_bytes, safe="")
half = len(pct_x)//2
while pct_x[half-1] == '%' or pct_x[half-2] == '%': half += 1
x0, x1 = pct_x[:half], pct_x[half:]
xlsx = b"PK\x03\x04" + rbytes(2000)

write("enc-japanese.eml", f"""From: {jis_word("送信 者")} <sender@example.com>
To: customer@partner.co.jp
Subject: {subject}
Date: Mon, 23 Nov 2026 10:00:00 +0900
Message-ID: <enc-jp-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed;
 boundary="----=_Part_0_12345.67890"
X-Mailer: Test Mailer 1.0

This is a multi-part message in MIME format.
------=_Part_0_12345.67890
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit

{body_jis}
------=_Part_0_12345.67890
Content-Type: text/csv; charset=Shift_JIS;
 name="{jis_name_csv}"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
 filename="{jis_name_csv}"

{b64lines(csv_sjis)}
------=_Part_0_12345.67890
Content-Type: application/pdf
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename*=UTF-8''{pct_pdf}

{b64lines(pdf)}
------=_Part_0_12345.67890
Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
 filename*0*=ISO-2022-JP''{x0};
 filename*1*={x1}

{b64lines(xlsx)}
------=_Part_0_12345.67890--
""")

png = b"\x89PNG\r\n\x1a\n" + rbytes(500)
inner_msg = crlf(f"""From: other@partner.co.jp
To: sender@example.com
Subject: =?UTF-8?B?{base64.b64encode("転送: 契約書".encode()).decode()}?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: text/plain; charset=UTF-8

see attached
--inner
Content-Type: application/octet-stream; name="contract.docx"
Content-Disposition: attachment; filename="contract.docx"
Content-Transfer-Encoding: base64

{b64lines(rbytes(300))}
--inner--
""")
write("enc-nested.eml", f"""From: sender@example.com
To: customer@partner.co.jp
Subject: nested structure
Date: Mon, 23 Nov 2026 10:00:00 +0900
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/related; boundary="rel"; type="multipart/alternative"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Hello, see the picture.
--alt
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

<p>Hello, see the picture <img src=3D"cid:logo@x"></p>
--alt--

--rel
Content-Type: image/png; name="logo.png"
Content-ID: <logo@x>
Content-Disposition: inline; filename="logo.png"
Content-Transfer-Encoding: base64

{b64lines(png)}
--rel--

--outer
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

{b64lines(pdf)}
--outer
Content-Type: message/rfc822
Content-Disposition: attachment

{inner_msg}
--outer
Content-Type: multipart/mixed; boundary="only-files"

--only-files
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"
Content-Transfer-Encoding: quoted-printable

caf=C3=A9 notes=
 line
--only-files--
--outer
Content-Type: text/plain; charset=UTF-8

-- 
signature
--outer--
epilogue text
""")

write("enc-single.eml", f"""From: sender@example.com
To: customer@partner.co.jp
Subject: single
Content-Type: application/pdf; name="invoice.pdf"
Content-Disposition: attachment; filename="invoice.pdf"
Content-Transfer-Encoding: base64
X-After: kept

{b64lines(pdf)}
""", eol="\n")

write("enc-noattach.eml", """From: sender@example.com
To: customer@partner.co.jp
Subject: text only
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="a"

--a
Content-Type: text/plain; charset=UTF-8

plain
--a
Content-Type: text/html; charset=UTF-8

<p>html</p>
--a--
""")

# Apple Mail style: files inside the HTML branch of an alternative.
write("enc-apple.eml", f"""From: sender@example.com
To: customer@partner.co.jp
Subject: =?UTF-8?B?{base64.b64encode("資料送付".encode()).decode()}?=
Mime-Version: 1.0 (Mac OS X Mail 16.0)
Content-Type: multipart/alternative;
\tboundary="Apple-Mail=_ALT"
Content-Transfer-Encoding: 7bit

--Apple-Mail=_ALT
Content-Transfer-Encoding: quoted-printable
Content-Type: text/plain;
\tcharset=utf-8

=E8=B3=87=E6=96=99=E3=81=A7=E3=81=99=E3=80=82

--Apple-Mail=_ALT
Content-Type: multipart/mixed;
\tboundary="Apple-Mail=_MIX"

--Apple-Mail=_MIX
Content-Transfer-Encoding: 7bit
Content-Type: text/html;
\tcharset=us-ascii

<html><body>Here it is:</body></html>
--Apple-Mail=_MIX
Content-Disposition: inline;
\tfilename*=utf-8''%E8%B3%87%E6%96%99.pdf
Content-Type: application/pdf;
\tx-unix-mode=0644;
\tname="=?utf-8?B?6LOH5paZLnBkZg==?="
Content-Transfer-Encoding: base64

{b64lines(pdf)}
--Apple-Mail=_MIX
Content-Transfer-Encoding: 7bit
Content-Type: text/html;
\tcharset=us-ascii

<html><body>Thanks</body></html>
--Apple-Mail=_MIX--

--Apple-Mail=_ALT--
""")

write("enc-signed.eml", """From: sender@example.com
To: customer@partner.co.jp
Subject: signed
MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="s"

--s
Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: text/plain

signed body
--m
Content-Type: application/pdf; name="a.pdf"
Content-Disposition: attachment; filename="a.pdf"
Content-Transfer-Encoding: base64

JVBERi0=
--m--
--s
Content-Type: application/pkcs7-signature; name="smime.p7s"
Content-Transfer-Encoding: base64

AAAA
--s--
""")
