package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sendguard/sendguard/config"
	"github.com/sendguard/sendguard/rules/addressee"
	"github.com/sendguard/sendguard/rules/edm"
	"github.com/sendguard/sendguard/rules/inspect"
)

const edmUsage = `edm import -fields name,kana,phone,email,customer_id [-key FILE] [-index FILE] [-header auto|yes|no] [-config FILE] customers.csv
       sendguard edm info [-key FILE] [-index FILE] [-config FILE]

Import the company's customer list for exact data match (only keyed hashes are stored), or describe the index.`

// edmCmd imports the company's record list into the exact-data-match index
// and describes the index. Neither prints a value.
func edmCmd(args []string) error {
	c := newCommand("edm", edmUsage)
	if wantsHelp(args) {
		return c.help(args)
	}
	if args[0] != "import" && args[0] != "info" {
		c.printUsage(os.Stderr)
		return usageError("unknown edm command %q", args[0])
	}
	sub := args[0]
	fs := c.fs
	cfgPath := fs.String("config", "", "configuration file (edm.key_file, edm.index, data_dir)")
	keyPath := fs.String("key", "", "HMAC key file (default edm.key_file); import creates it 0600 if absent")
	indexPath := fs.String("index", "", "index file (default edm.index, or edm.idx in data_dir)")
	fields := fs.String("fields", "", "the CSV columns in order; - skips a column (import)")
	header := fs.String("header", "auto", "whether the first row is a header: auto, yes or no (import)")
	pos, err := c.parse(args[1:])
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *keyPath == "" {
		*keyPath = cfg.EDM.KeyFile
	}
	if *indexPath == "" {
		*indexPath = cfg.EDM.IndexPath(cfg.DataDir)
	}
	if *keyPath == "" {
		return errors.New("edm: no key file: give -key FILE or set edm.key_file (outside the data directory)")
	}
	if err := edm.CheckKeyPlacement(*keyPath, *indexPath); err != nil {
		return err
	}
	if sub == "info" {
		if len(pos) != 0 {
			c.printUsage(os.Stderr)
			return usageError("edm info takes no arguments")
		}
		key, err := edm.LoadKey(*keyPath)
		if err != nil {
			return err
		}
		ix, err := edm.Open(*indexPath, key)
		if err != nil {
			return err
		}
		printEDMInfo(*indexPath, ix.Info())
		return nil
	}
	if len(pos) != 1 || *fields == "" {
		c.printUsage(os.Stderr)
		return usageError("edm import needs -fields and one CSV file")
	}
	cols, err := edm.ParseColumns(*fields)
	if err != nil {
		return err
	}
	hm, ok := map[string]edm.Header{"auto": edm.HeaderAuto, "yes": edm.HeaderYes, "no": edm.HeaderNo}[*header]
	if !ok {
		return fmt.Errorf("edm: -header must be auto, yes or no, not %q", *header)
	}
	return edmImport(pos[0], cols, hm, *keyPath, *indexPath)
}

func edmImport(src string, cols edm.Columns, hm edm.Header, keyPath, indexPath string) error {
	// The entries are the live heap; a tighter GC target keeps a
	// 1,000,000-record import well under 150 MB.
	debug.SetGCPercent(25)
	start := time.Now()
	key, created, err := edm.LoadOrCreateKey(keyPath)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(os.Stderr, "created key file %s (mode 0600): keep it, the index is useless without it\n", keyPath)
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("edm: %w", err)
	}
	defer f.Close()
	b, err := edm.NewBuilder(key, cols.Fields())
	if err != nil {
		return err
	}
	st, err := edm.ImportCSV(f, cols, hm, b)
	if err != nil {
		return fmt.Errorf("edm: %s: %w", filepath.Base(src), err)
	}
	if err := os.MkdirAll(filepath.Dir(indexPath), 0o700); err != nil {
		return fmt.Errorf("edm: %w", err)
	}
	info, err := b.WriteFile(indexPath, time.Now())
	if err != nil {
		return err
	}
	fmt.Printf("read %d rows (%s, header: %v), %d without a matchable value, in %s\n",
		st.Rows, st.Encoding, st.Header, st.Empty, time.Since(start).Round(time.Millisecond))
	printEDMInfo(indexPath, info)
	return nil
}

func printEDMInfo(path string, info edm.Info) {
	fmt.Printf("index %s: %d records, %d values, fields %v, imported %s\n",
		path, info.Records, info.Entries, info.Fields, info.Created.Local().Format(time.RFC3339))
	if !info.HasShapes() {
		fmt.Println("index written by an older sendguard without value shapes: matching works but costs more; re-import to add them")
	}
}

// ownData loads what the inspector needs of the company's own data: the
// exact-data-match index and the partner directory. A missing or corrupt
// index, or the wrong key, is an error: sendguard does not start without
// the protection it was configured with.
func ownData(cfg *config.Config, ic *inspect.Config) error {
	if cfg.EDM.On() {
		key, err := edm.LoadKey(cfg.EDM.KeyFile)
		if err != nil {
			return fmt.Errorf("edm.key_file: %w", err)
		}
		ix, err := edm.Open(cfg.EDM.IndexPath(cfg.DataDir), key)
		if err != nil {
			return fmt.Errorf("edm.index: %w (run sendguard edm import)", err)
		}
		ic.EDM = ix
	}
	if len(cfg.Partners) > 0 {
		cs := make([]addressee.Company, len(cfg.Partners))
		for i, p := range cfg.Partners {
			cs[i] = addressee.Company{Name: p.Name, Domains: p.Domains}
		}
		dir, err := addressee.NewDirectory(cs)
		if err != nil {
			return fmt.Errorf("partners: %w", err)
		}
		ic.Partners = dir
	}
	return nil
}

// ownDataNotes are the console's lines about the company's own data: the
// customer list's size, fields and import date, and the partner directory's
// size. Never a value.
func ownDataNotes(in *inspect.Inspector) []string {
	ix, partners := in.OwnData()
	var notes []string
	if ix != nil {
		notes = append(notes, fmt.Sprintf("顧客名簿 (EDM) / customer list: %d records (%s), imported %s",
			ix.Records, strings.Join(ix.Fields, ", "), ix.Created.UTC().Format("2006-01-02 15:04 UTC")))
	}
	if partners > 0 {
		notes = append(notes, fmt.Sprintf("取引先ディレクトリ / partner directory: %d companies", partners))
	}
	return notes
}
