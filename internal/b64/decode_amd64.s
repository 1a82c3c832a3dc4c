//go:build !purego

#include "textflag.h"

// Lookup tables of the AVX2 base64 decoder (Muła and Lemire, "Faster
// Base64 Encoding and Decoding Using AVX2 Instructions", 2018), standard
// alphabet, each 16-byte table repeated for both lanes.
DATA lutlo<>+0x00(SB)/8, $0x1111111111111115
DATA lutlo<>+0x08(SB)/8, $0x1A1B1B1B1A131111
DATA lutlo<>+0x10(SB)/8, $0x1111111111111115
DATA lutlo<>+0x18(SB)/8, $0x1A1B1B1B1A131111
GLOBL lutlo<>(SB), RODATA|NOPTR, $32

DATA luthi<>+0x00(SB)/8, $0x0804080402011010
DATA luthi<>+0x08(SB)/8, $0x1010101010101010
DATA luthi<>+0x10(SB)/8, $0x0804080402011010
DATA luthi<>+0x18(SB)/8, $0x1010101010101010
GLOBL luthi<>(SB), RODATA|NOPTR, $32

DATA lutroll<>+0x00(SB)/8, $0xB9B9BFBF04131000
DATA lutroll<>+0x08(SB)/8, $0x0000000000000000
DATA lutroll<>+0x10(SB)/8, $0xB9B9BFBF04131000
DATA lutroll<>+0x18(SB)/8, $0x0000000000000000
GLOBL lutroll<>(SB), RODATA|NOPTR, $32

DATA mask2f<>+0x00(SB)/8, $0x2F2F2F2F2F2F2F2F
DATA mask2f<>+0x08(SB)/8, $0x2F2F2F2F2F2F2F2F
DATA mask2f<>+0x10(SB)/8, $0x2F2F2F2F2F2F2F2F
DATA mask2f<>+0x18(SB)/8, $0x2F2F2F2F2F2F2F2F
GLOBL mask2f<>(SB), RODATA|NOPTR, $32

// Two 6-bit values to 12 bits (bytes × 0x40, 0x01), two of those to 24.
DATA madd1<>+0x00(SB)/8, $0x0140014001400140
DATA madd1<>+0x08(SB)/8, $0x0140014001400140
DATA madd1<>+0x10(SB)/8, $0x0140014001400140
DATA madd1<>+0x18(SB)/8, $0x0140014001400140
GLOBL madd1<>(SB), RODATA|NOPTR, $32

DATA madd2<>+0x00(SB)/8, $0x0001100000011000
DATA madd2<>+0x08(SB)/8, $0x0001100000011000
DATA madd2<>+0x10(SB)/8, $0x0001100000011000
DATA madd2<>+0x18(SB)/8, $0x0001100000011000
GLOBL madd2<>(SB), RODATA|NOPTR, $32

// Each 24-bit group's bytes in output order, 12 per lane at its start.
DATA shuf<>+0x00(SB)/8, $0x090A040506000102
DATA shuf<>+0x08(SB)/8, $0x808080800C0D0E08
DATA shuf<>+0x10(SB)/8, $0x090A040506000102
DATA shuf<>+0x18(SB)/8, $0x808080800C0D0E08
GLOBL shuf<>(SB), RODATA|NOPTR, $32

// The two lanes' 12 bytes made contiguous.
DATA perm<>+0x00(SB)/8, $0x0000000100000000
DATA perm<>+0x08(SB)/8, $0x0000000400000002
DATA perm<>+0x10(SB)/8, $0x0000000600000005
DATA perm<>+0x18(SB)/8, $0x0000000700000003
GLOBL perm<>(SB), RODATA|NOPTR, $32

// func decodeAVX2(dst, src []byte) (di, si int)
TEXT ·decodeAVX2(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), R8
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), R9
	XORQ AX, AX
	XORQ BX, BX
	VMOVDQU lutlo<>(SB), Y10
	VMOVDQU luthi<>(SB), Y11
	VMOVDQU lutroll<>(SB), Y12
	VMOVDQU mask2f<>(SB), Y13
	VMOVDQU madd1<>(SB), Y14
	VMOVDQU madd2<>(SB), Y15
	VMOVDQU shuf<>(SB), Y9
	VMOVDQU perm<>(SB), Y8

loop:
	MOVQ R9, CX
	SUBQ BX, CX
	CMPQ CX, $32
	JLT  done
	MOVQ R8, CX
	SUBQ AX, CX
	CMPQ CX, $32
	JLT  done
	VMOVDQU (SI)(BX*1), Y0
	VPSRLD  $4, Y0, Y1
	VPAND   Y13, Y1, Y1
	VPAND   Y13, Y0, Y2
	VPSHUFB Y2, Y10, Y3
	VPSHUFB Y1, Y11, Y4
	VPTEST  Y4, Y3
	JNE     done
	VPCMPEQB Y13, Y0, Y5
	VPADDB  Y1, Y5, Y5
	VPSHUFB Y5, Y12, Y5
	VPADDB  Y5, Y0, Y0
	VPMADDUBSW Y14, Y0, Y0
	VPMADDWD Y15, Y0, Y0
	VPSHUFB Y9, Y0, Y0
	VPERMD  Y0, Y8, Y0
	VMOVDQU Y0, (DI)(AX*1)
	ADDQ    $32, BX
	ADDQ    $24, AX
	JMP     loop

done:
	VZEROUPPER
	MOVQ AX, di+48(FP)
	MOVQ BX, si+56(FP)
	RET
