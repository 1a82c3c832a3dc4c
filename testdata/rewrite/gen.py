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
