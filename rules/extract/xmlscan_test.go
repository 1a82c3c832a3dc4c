package extract

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestXMLScanner(t *testing.T) {
	in := `<?xml version="1.0"?><!-- a <comment> --><x:root xmlns:x="u"><x:c r="A1" t='s' f="a>b"/>` +
		`<t>&amp;&lt;&#x6C0F;&#21517;&unknown;&</t><t><![CDATA[<raw> & ]]></t><empty></empty></x:root>`
	var got []string
	// one byte per read exercises refills inside tags and text
	s := newXMLScanner(iotest.OneByteReader(strings.NewReader(in)))
	for {
		err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch s.kind {
		case tokStart:
			got = append(got, "<"+string(s.name))
		case tokSelfClose:
			got = append(got, "<"+string(s.name)+" r="+string(s.attr("r"))+" t="+string(s.attr("t"))+" f="+string(s.attr("f"))+"/")
		case tokEnd:
			got = append(got, "</"+string(s.name))
		case tokText:
			got = append(got, "'"+string(s.text)+"'")
		}
	}
	want := "<root|<c r=A1 t=s f=a>b/|<t|'&<氏名&unknown;&'|</t|<t|'<raw> & '|</t|<empty|</empty|</root"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
}
