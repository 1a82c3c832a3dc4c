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

// Encoder constants (Muła and Lemire, the paper above): the dword
// permutation and byte shuffle that give each lane its 12 input bytes as
// [b a c b] per 3-byte group, the masks and multipliers that spread them to
// four 6-bit indices, and the offsets from an index to its character.
DATA encperm<>+0x00(SB)/8, $0x0000000100000000
DATA encperm<>+0x08(SB)/8, $0x0000000300000002
DATA encperm<>+0x10(SB)/8, $0x0000000400000003
DATA encperm<>+0x18(SB)/8, $0x0000000600000005
GLOBL encperm<>(SB), RODATA|NOPTR, $32

DATA encshuf<>+0x00(SB)/8, $0x0405030401020001
DATA encshuf<>+0x08(SB)/8, $0x0A0B090A07080607
DATA encshuf<>+0x10(SB)/8, $0x0405030401020001
DATA encshuf<>+0x18(SB)/8, $0x0A0B090A07080607
GLOBL encshuf<>(SB), RODATA|NOPTR, $32

DATA enclut<>+0x00(SB)/8, $0xFCFCFCFCFCFCFC47
DATA enclut<>+0x08(SB)/8, $0x000041F0EDFCFCFC
DATA enclut<>+0x10(SB)/8, $0xFCFCFCFCFCFCFC47
DATA enclut<>+0x18(SB)/8, $0x000041F0EDFCFCFC
GLOBL enclut<>(SB), RODATA|NOPTR, $32

DATA encm0<>+0x00(SB)/4, $0x0fc0fc00
GLOBL encm0<>(SB), RODATA|NOPTR, $4
DATA encmul0<>+0x00(SB)/4, $0x04000040
GLOBL encmul0<>(SB), RODATA|NOPTR, $4
DATA encm1<>+0x00(SB)/4, $0x003f03f0
GLOBL encm1<>(SB), RODATA|NOPTR, $4
DATA encmul1<>+0x00(SB)/4, $0x01000010
GLOBL encmul1<>(SB), RODATA|NOPTR, $4
DATA enc51<>+0x00(SB)/4, $0x33333333
GLOBL enc51<>(SB), RODATA|NOPTR, $4
DATA enc26<>+0x00(SB)/4, $0x1a1a1a1a
GLOBL enc26<>(SB), RODATA|NOPTR, $4
DATA enc13<>+0x00(SB)/4, $0x0d0d0d0d
GLOBL enc13<>(SB), RODATA|NOPTR, $4

// ENC24 encodes the 24 bytes at off(SI) (32 are read) into the 32
// characters at 4/3*off(DI).
#define ENC24(off, doff) \
	VMOVDQU    off(SI), Y0; \
	VPERMD     Y0, Y8, Y0; \
	VPSHUFB    Y9, Y0, Y0; \
	VPAND      Y10, Y0, Y1; \
	VPMULHUW   Y11, Y1, Y1; \
	VPAND      Y12, Y0, Y2; \
	VPMULLW    Y13, Y2, Y2; \
	VPOR       Y1, Y2, Y0; \
	VPSUBUSB   Y14, Y0, Y3; \
	VPCMPGTB   Y0, Y15, Y4; \
	VPAND      Y6, Y4, Y4; \
	VPOR       Y4, Y3, Y3; \
	VPSHUFB    Y3, Y7, Y3; \
	VPADDB     Y0, Y3, Y0; \
	VMOVDQU    Y0, doff(DI)

// func encode48AVX2(dst, src *byte)
TEXT ·encode48AVX2(SB), NOSPLIT, $0-16
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	VMOVDQU      encperm<>(SB), Y8
	VMOVDQU      encshuf<>(SB), Y9
	VPBROADCASTD encm0<>(SB), Y10
	VPBROADCASTD encmul0<>(SB), Y11
	VPBROADCASTD encm1<>(SB), Y12
	VPBROADCASTD encmul1<>(SB), Y13
	VPBROADCASTD enc51<>(SB), Y14
	VPBROADCASTD enc26<>(SB), Y15
	VPBROADCASTD enc13<>(SB), Y6
	VMOVDQU      enclut<>(SB), Y7
	ENC24(0, 0)
	ENC24(24, 32)
	VZEROUPPER
	RET
