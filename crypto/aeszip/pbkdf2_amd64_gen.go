//go:build ignore

// This program generates pbkdf2_amd64.s: `go generate ./crypto/aeszip`.
//
// Each PBKDF2 round is two SHA-1 compressions of a single block from a
// saved pad state, built from crypto/sha1's blockSHANI
// (sha1block_amd64.s). Two PBKDF2 blocks (chains) run interleaved
// instruction by instruction so that they share SHA1RNDS4's latency. The
// message schedule is computed ahead of the rounds into the stack, which
// the rounds read as memory operands:
//
//   - Of the 16 message words only W0-W4 vary (U), the rest is HMAC's
//     padding, so of blockSHANI's first SHA1MSG1/SHA1MSG2 steps those that
//     only see the constant words fold away; W16-W31 come from the rest.
//   - W32-W79 come from the equivalent recurrence
//     W(t) = (W(t-6) ^ W(t-16) ^ W(t-28) ^ W(t-32)) <<< 2 on ordinary
//     vector ports, which leaves the SHA unit to SHA1RNDS4: in SSE per
//     chain (pbkdf2SHANI), or with AVX-512 for both chains at once in the
//     two halves of Y16-Y23, which SSE code cannot disturb (pbkdf2SHANI512).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
)

// chain is one PBKDF2 block's registers: the SHA-1 state as SHA-NI keeps
// it (ABCD, and E alternating between two registers), four for the message
// schedule, the T accumulator of ABCD, and the stack offsets of its E
// accumulator and of its message schedule.
type chain struct {
	a, e1, e2 string
	s         [4]string
	tABCD     string
	tE        int
	w         int
}

var chains = [2]chain{
	{"X0", "X5", "X6", [4]string{"X1", "X2", "X3", "X4"}, "X14", 96, wBase},
	{"X7", "X12", "X13", [4]string{"X8", "X9", "X10", "X11"}, "X15", 112, wBase + 16},
}

// Stack layout (AX, 32-byte aligned): pad states at 0-95 (ipad, opad:
// ABCD, E, E with the padding word), E accumulators at 96-127, then the
// schedule vectors W(4g)-W(4g+3), g = 0-19, of both chains side by side.
const (
	wBase = 128
	frame = wBase + 20*32
)

// wg is the stack slot of the chain's W(4g)-W(4g+3).
func (c chain) wg(g int) string { return fmt.Sprintf("%d(AX)", c.w+32*g) }

// prefix starts a compression of U (the previous digest: ABCD in c.a, E
// with the padding word in c.e1) under the pad state at pad(AX): it stores
// W0-W31 and runs rounds 0-3.
func (c chain) prefix(pad int) []string {
	m1, m2, m3, m4 := c.s[0], c.s[1], c.s[2], c.s[3]
	return []string{
		"MOVO " + c.a + ", " + m1,  // W0-W3 = A, B, C, D
		"MOVO " + c.e1 + ", " + m2, // W4-W7 = E, 0x80000000, 0, 0
		"MOVO " + m1 + ", " + c.wg(0),
		"MOVO " + m2 + ", " + c.wg(1),
		"MOVQ R9, " + m4, // W12-W15 = 0, 0, 0, 672; W8-W11 = 0
		fmt.Sprintf("MOVO %d(AX), %s", pad, c.a),
		fmt.Sprintf("MOVO %d(AX), %s", pad+16, c.e1),
		// SHA1MSG1 of (W4-W7, W8-W11) is W4-W7 itself, and of
		// (W8-W11, W12-W15) zero.
		"SHA1MSG1 " + m2 + ", " + m1,
		"SHA1MSG2 " + m4 + ", " + m1, // W16-W19
		"MOVO " + m1 + ", " + c.wg(4),
		"PXOR " + m4 + ", " + m2,
		"SHA1MSG2 " + m1 + ", " + m2, // W20-W23
		"MOVO " + m2 + ", " + c.wg(5),
		"SHA1MSG1 " + m1 + ", " + m4,
		"MOVO " + m1 + ", " + m3,
		"SHA1MSG2 " + m2 + ", " + m3, // W24-W27
		"MOVO " + m3 + ", " + c.wg(6),
		"PXOR " + m2 + ", " + m4,
		"SHA1MSG2 " + m3 + ", " + m4, // W28-W31
		"MOVO " + m4 + ", " + c.wg(7),
		// Rounds 0-3.
		"PADDD " + c.wg(0) + ", " + c.e1,
		"MOVO " + c.a + ", " + c.e2,
		"SHA1RNDS4 $0x00, " + c.e1 + ", " + c.a,
	}
}

// schedSSE computes W(4n)-W(4n+3), n = 8-19, for one chain. Each step finds
// W(t-8)-W(t-5) in cur and W(t-4)-W(t-1) in prev and leaves W(t)-W(t+3) in
// cur, so the two swap; after prefix they are W24-W31.
func (c chain) schedSSE(n int) []string {
	prev, cur, tmp := c.s[3], c.s[2], c.s[0]
	if n%2 == 1 {
		prev, cur = cur, prev
	}
	return []string{
		"PALIGNR $8, " + prev + ", " + cur, // W(t-6)-W(t-3)
		"PXOR " + c.wg(n-4) + ", " + cur,
		"PXOR " + c.wg(n-7) + ", " + cur,
		"PXOR " + c.wg(n-8) + ", " + cur,
		"MOVO " + cur + ", " + tmp,
		"PSLLL $2, " + cur,
		"PSRLL $30, " + tmp,
		"POR " + tmp + ", " + cur,
		"MOVO " + cur + ", " + c.wg(n),
	}
}

// slot is the AVX-512 register holding W(4n)-W(4n+3) of both chains
// during the steps that need it (n-8 to n-1 of step n).
func slot(n int) string { return fmt.Sprintf("Y%d", 16+n%8) }

// load512 fills the slots with W0-W31 of both chains; Y25 holds W12-W15.
func load512() []string {
	c0, c1 := chains[0], chains[1]
	l := []string{
		"VMOVDQU64 " + c0.wg(0) + ", X16",
		"VINSERTI32X4 $1, " + c1.wg(0) + ", Y16, Y16",
		"VMOVDQU64 " + c0.wg(1) + ", X17",
		"VINSERTI32X4 $1, " + c1.wg(1) + ", Y17, Y17",
		"VPXORD Y18, Y18, Y18",
		"VMOVDQU64 Y25, Y19",
	}
	for i := range 4 {
		l = append(l, fmt.Sprintf("VINSERTI32X4 $1, %s, Y%s, %s", c1.s[i], c0.s[i][1:], slot(4+i)))
	}
	return l
}

// sched512 is schedSSE for both chains at once.
func sched512(n int) []string {
	return []string{
		"VPALIGNR $8, " + slot(n-1) + ", " + slot(n-2) + ", Y24",
		"VPTERNLOGD $0x96, " + slot(n-4) + ", " + slot(n-7) + ", " + slot(n-8),
		"VPXORD Y24, " + slot(n) + ", " + slot(n),
		"VPROLD $2, " + slot(n) + ", " + slot(n),
		"VMOVDQU64 " + slot(n) + ", " + chains[0].wg(n),
	}
}

// round is rounds 4g to 4g+3, g > 0.
func (c chain) round(g int) []string {
	ex, ey := c.e1, c.e2
	if g%2 == 1 {
		ex, ey = ey, ex
	}
	return []string{
		"SHA1NEXTE " + c.wg(g) + ", " + ex,
		"MOVO " + c.a + ", " + ey,
		fmt.Sprintf("SHA1RNDS4 $0x%02x, %s, %s", g/5, ex, c.a),
	}
}

// suffix adds the pad state (the feed-forward), which also leaves E laid
// out as the next message's W4-W7.
func (c chain) suffix(pad int) []string {
	return []string{
		fmt.Sprintf("SHA1NEXTE %d(AX), %s", pad+32, c.e1),
		fmt.Sprintf("PADDD %d(AX), %s", pad, c.a),
	}
}

func interleave(a, b []string) []string {
	if len(a) != len(b) {
		log.Fatal("chains differ")
	}
	var out []string
	for i := range a {
		out = append(out, a[i], b[i])
	}
	return out
}

func compress(pad int, avx512 bool) []string {
	c0, c1 := chains[0], chains[1]
	l := interleave(c0.prefix(pad), c1.prefix(pad))
	if avx512 {
		l = append(l, load512()...)
	}
	for g := 1; g < 20; g++ {
		if n := g + 7; n >= 8 && n < 20 {
			if avx512 {
				l = append(l, sched512(n)...)
			} else {
				l = append(l, interleave(c0.schedSSE(n), c1.schedSSE(n))...)
			}
		}
		l = append(l, interleave(c0.round(g), c1.round(g))...)
	}
	return append(l, interleave(c0.suffix(pad), c1.suffix(pad))...)
}

func main() {
	out := flag.String("o", "pbkdf2_amd64.s", "output file")
	flag.Parse()
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("// Code generated by pbkdf2_amd64_gen.go. DO NOT EDIT.")
	p("")
	p("//go:build !purego")
	p("")
	p(`#include "textflag.h"`)
	for _, avx512 := range []bool{false, true} {
		name := "pbkdf2SHANI"
		if avx512 {
			name += "512"
		}
		p("")
		p("// func %s(s *niState, n uint64)", name)
		p("//")
		p("// Runs n PBKDF2-HMAC-SHA1 rounds on two blocks at once: s.u holds each")
		p("// block's first U (which is also its running T) and gets the T back.")
		p("// Everything secret is wiped before returning.")
		p("TEXT ·%s(SB), 0, $%d-16", name, frame+32)
		p("\tMOVQ s+0(FP), DI")
		p("\tMOVQ n+8(FP), CX")
		p("\tLEAQ 31(SP), AX")
		p("\tANDQ $~31, AX")
		p("\tMOVQ $672, R9 // bit length of the 84-byte HMAC block")
		for i := range 6 {
			p("\tMOVOU %d(DI), X0", 16*i)
			p("\tMOVO X0, %d(AX)", 16*i)
		}
		for i, c := range chains {
			u := 96 + 32*i
			p("\tMOVOU %d(DI), %s", u, c.a)
			p("\tMOVOU %d(DI), %s", u+16, c.e1)
			p("\tMOVO %s, %s", c.a, c.tABCD)
			p("\tMOVO %s, %d(AX)", c.e1, c.tE)
			p("\tPXOR X1, X1")
			p("\tMOVO X1, %s", c.wg(2))
			p("\tMOVQ R9, X1")
			p("\tMOVO X1, %s", c.wg(3))
		}
		if avx512 {
			p("\tVMOVDQU64 %s, Y25", chains[0].wg(3))
		}
		p("\tTESTQ CX, CX")
		p("\tJZ %s_done", name)
		p("")
		p("%s_loop:", name)
		for _, pad := range []int{0, 48} {
			for _, l := range compress(pad, avx512) {
				p("\t%s", l)
			}
		}
		for _, c := range chains {
			p("\tPXOR %s, %s", c.a, c.tABCD)
			p("\tMOVO %d(AX), %s", c.tE, c.s[0])
			p("\tPXOR %s, %s", c.e1, c.s[0])
			p("\tMOVO %s, %d(AX)", c.s[0], c.tE)
		}
		p("\tDECQ CX")
		p("\tJNZ %s_loop", name)
		p("")
		p("%s_done:", name)
		for i, c := range chains {
			u := 96 + 32*i
			p("\tMOVOU %s, %d(DI)", c.tABCD, u)
			p("\tMOVO %d(AX), X0", c.tE)
			p("\tMOVOU X0, %d(DI)", u+16)
		}
		for i := range 16 {
			p("\tPXOR X%d, X%d", i, i)
		}
		for i := 0; i < frame; i += 16 {
			p("\tMOVO X0, %d(AX)", i)
		}
		if avx512 {
			for i := 16; i <= 25; i++ {
				p("\tVPXORD Y%d, Y%d, Y%d", i, i, i)
			}
			p("\tVZEROUPPER")
		}
		p("\tRET")
	}
	p("")
	p("// func cpuid(leaf, sub uint32) (a, b, c, d uint32)")
	p("TEXT ·cpuid(SB), NOSPLIT, $0-24")
	p("\tMOVL leaf+0(FP), AX")
	p("\tMOVL sub+4(FP), CX")
	p("\tCPUID")
	p("\tMOVL AX, a+8(FP)")
	p("\tMOVL BX, b+12(FP)")
	p("\tMOVL CX, c+16(FP)")
	p("\tMOVL DX, d+20(FP)")
	p("\tRET")
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
