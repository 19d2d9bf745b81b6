/*
 * The character class table of chars.h, built from the RFC 3261 25.1
 * grammar.  Constant data only.
 */
#include "sipd/msg/chars.h"

#define A (CH_ALPHA | CH_TOKEN | CH_UNRESERVED)
#define AH (A | CH_HEX)
#define D (CH_DIGIT | CH_TOKEN | CH_UNRESERVED | CH_HEX)

const uint8_t msg_chars[256] = {
	['\t'] = CH_WS, ['\r'] = CH_WS, ['\n'] = CH_WS, [' '] = CH_WS,
	['0'] = D, ['1'] = D, ['2'] = D, ['3'] = D, ['4'] = D,
	['5'] = D, ['6'] = D, ['7'] = D, ['8'] = D, ['9'] = D,
	['a'] = AH, ['b'] = AH, ['c'] = AH, ['d'] = AH, ['e'] = AH, ['f'] = AH,
	['A'] = AH, ['B'] = AH, ['C'] = AH, ['D'] = AH, ['E'] = AH, ['F'] = AH,
	['g'] = A, ['h'] = A, ['i'] = A, ['j'] = A, ['k'] = A, ['l'] = A,
	['m'] = A, ['n'] = A, ['o'] = A, ['p'] = A, ['q'] = A, ['r'] = A,
	['s'] = A, ['t'] = A, ['u'] = A, ['v'] = A, ['w'] = A, ['x'] = A,
	['y'] = A, ['z'] = A,
	['G'] = A, ['H'] = A, ['I'] = A, ['J'] = A, ['K'] = A, ['L'] = A,
	['M'] = A, ['N'] = A, ['O'] = A, ['P'] = A, ['Q'] = A, ['R'] = A,
	['S'] = A, ['T'] = A, ['U'] = A, ['V'] = A, ['W'] = A, ['X'] = A,
	['Y'] = A, ['Z'] = A,
	/* token marks that are also unreserved marks */
	['-'] = CH_TOKEN | CH_UNRESERVED, ['.'] = CH_TOKEN | CH_UNRESERVED,
	['!'] = CH_TOKEN | CH_UNRESERVED, ['*'] = CH_TOKEN | CH_UNRESERVED,
	['_'] = CH_TOKEN | CH_UNRESERVED, ['~'] = CH_TOKEN | CH_UNRESERVED,
	['\''] = CH_TOKEN | CH_UNRESERVED,
	/* token only */
	['%'] = CH_TOKEN, ['`'] = CH_TOKEN,
	['+'] = CH_TOKEN | CH_USER | CH_PARAM,
	/* unreserved marks that are not token characters */
	['('] = CH_UNRESERVED, [')'] = CH_UNRESERVED,
	/* user-unreserved and param-unreserved */
	['&'] = CH_USER | CH_PARAM, ['$'] = CH_USER | CH_PARAM,
	['='] = CH_USER, [','] = CH_USER, [';'] = CH_USER, ['?'] = CH_USER,
	['/'] = CH_USER | CH_PARAM,
	['['] = CH_PARAM, [']'] = CH_PARAM, [':'] = CH_PARAM,
};
