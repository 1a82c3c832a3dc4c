package link_test

import (
	"fmt"
	"time"

	"github.com/sendguard/sendguard/link"
)

// The rewriter puts this text where the attachments were; lang's text
// comes first. File names are left out unless Note.ListNames is set.
func ExampleNoteText() {
	note := link.Note{
		Files:   []link.File{{Name: "見積書.pdf", Size: 250 << 10}},
		Expires: time.Date(2026, 4, 8, 9, 0, 0, 0, time.UTC),
	}
	fmt.Print(link.NoteText("en", note, link.NoteLink{Recipient: "alice@partner.co.jp", URL: "https://sendguard.example.com/d/TOKEN"}))
	// Output:
	// sendguard replaced the attachments of this message (1) with a download link.
	// Download: https://sendguard.example.com/d/TOKEN
	// Available until: Wed 8 Apr 2026 09:00 UTC
	// Open the link and request a one-time code; it is sent to your own e-mail address.
	// Total size: 250.0 KB
	//
	// このメールの添付ファイル（1 件）は、誤送信防止のため sendguard によりダウンロードリンクに置き換えられました。
	// ダウンロード: https://sendguard.example.com/d/TOKEN
	// 有効期限: 2026年4月8日(水) 09:00 UTC
	// リンクを開いて確認コードを送信すると、受信者ご本人のメールアドレスにコードが届きます。
	// 合計サイズ: 250.0 KB
}
