//go:build !purego

#include "textflag.h"

// CTRBLOCK sets X to the next counter block: BX+1 as a 64-bit
// little-endian integer in the low half, zeros in the high half.
#define CTRBLOCK(X) \
	INCQ BX; \
	MOVQ BX, X

// ROUND8 runs one AES round with the round key at off(AX) on X0-X7.
#define ROUND8(op, off) \
	MOVOU off(AX), X8; \
	op X8, X0; \
	op X8, X1; \
	op X8, X2; \
	op X8, X3; \
	op X8, X4; \
	op X8, X5; \
	op X8, X6; \
	op X8, X7

// func aesCTR256(rk *[240]byte, ctr uint64, ks *byte, n int)
//
// Writes n keystream blocks (n a multiple of 8) of WinZip AES-CTR to ks:
// block i is the AES-256 encryption of the counter ctr+i (i from 1) as
// above. Eight blocks are in flight at a time, so AESENC runs at its
// throughput rather than its latency.
TEXT ·aesCTR256(SB), NOSPLIT, $0-32
	MOVQ rk+0(FP), AX
	MOVQ ctr+8(FP), BX
	MOVQ ks+16(FP), DI
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   done

loop:
	CTRBLOCK(X0)
	CTRBLOCK(X1)
	CTRBLOCK(X2)
	CTRBLOCK(X3)
	CTRBLOCK(X4)
	CTRBLOCK(X5)
	CTRBLOCK(X6)
	CTRBLOCK(X7)
	ROUND8(PXOR, 0)
	ROUND8(AESENC, 16)
	ROUND8(AESENC, 32)
	ROUND8(AESENC, 48)
	ROUND8(AESENC, 64)
	ROUND8(AESENC, 80)
	ROUND8(AESENC, 96)
	ROUND8(AESENC, 112)
	ROUND8(AESENC, 128)
	ROUND8(AESENC, 144)
	ROUND8(AESENC, 160)
	ROUND8(AESENC, 176)
	ROUND8(AESENC, 192)
	ROUND8(AESENC, 208)
	ROUND8(AESENCLAST, 224)
	MOVOU X0, 0(DI)
	MOVOU X1, 16(DI)
	MOVOU X2, 32(DI)
	MOVOU X3, 48(DI)
	MOVOU X4, 64(DI)
	MOVOU X5, 80(DI)
	MOVOU X6, 96(DI)
	MOVOU X7, 112(DI)
	ADDQ  $128, DI
	DECQ  CX
	JNZ   loop
	PXOR  X8, X8 // leave no round key in a register

done:
	RET

// func subWord(w uint32) uint32
//
// Applies the AES S-box to each byte of w in constant time: AESENCLAST
// with a zero round key is ShiftRows then SubBytes, and ShiftRows leaves a
// state whose four columns are equal as it is.
TEXT ·subWord(SB), NOSPLIT, $0-12
	MOVL       w+0(FP), AX
	MOVQ       AX, X0
	PSHUFD     $0, X0, X0
	PXOR       X1, X1
	AESENCLAST X1, X0
	MOVQ       X0, AX
	MOVL       AX, ret+8(FP)
	PXOR       X0, X0
	RET
