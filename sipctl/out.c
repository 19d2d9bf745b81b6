/*
 * Output: replies and events as people read them (aligned tables for
 * lists of records, "key  value" lines for records, text as it is) or as
 * JSON, one object per line, for scripts (-j).  Owns nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipctl/sipctl.h"

static void
json_str(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(f, "\\u%04x", c);
			} else {
				fputc(c, f);
			}
		}
	}
	fputc('"', f);
}

static void
json_obj(FILE *f, const msgpack_object *o, int depth)
{
	if (depth > 32) {
		fputs("null", f);
		return;
	}
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fputs("null", f);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "true" : "false", f);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		fprintf(f, "%" PRIu64, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(f, "%" PRId64, o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		fprintf(f, "%.17g", o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		json_str(f, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		json_str(f, o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		fputc('[', f);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i > 0) {
				fputc(',', f);
			}
			json_obj(f, &o->via.array.ptr[i], depth + 1);
		}
		fputc(']', f);
		break;
	case MSGPACK_OBJECT_MAP:
		fputc('{', f);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;

			if (i > 0) {
				fputc(',', f);
			}
			if (k->type == MSGPACK_OBJECT_STR) {
				json_str(f, k->via.str.ptr, k->via.str.size);
			} else {
				fputs("\"?\"", f);
			}
			fputc(':', f);
			json_obj(f, &o->via.map.ptr[i].val, depth + 1);
		}
		fputc('}', f);
		break;
	default:
		fputs("null", f);
		break;
	}
}

void
out_json(FILE *f, const msgpack_object *o)
{
	json_obj(f, o, 0);
	fputc('\n', f);
	fflush(f);
}

/* A scalar (or a short list) as text into a malloc'ed string. */
static char *
out_text(const msgpack_object *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL) {
		return NULL;
	}
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fputs("-", f);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "on" : "off", f);
		break;
	case MSGPACK_OBJECT_STR:
		if (o->via.str.size == 0) {
			fputs("-", f);
		} else {
			fwrite(o->via.str.ptr, 1, o->via.str.size, f);
		}
		break;
	case MSGPACK_OBJECT_ARRAY:
		if (o->via.array.size == 0) {
			fputs("-", f);
		}
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			char *s = out_text(&o->via.array.ptr[i]);

			fprintf(f, "%s%s", i > 0 ? "," : "", s ? s : "");
			free(s);
		}
		break;
	case MSGPACK_OBJECT_MAP:
		if (o->via.map.size == 0) {
			fputs("-", f);
		}
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			char *k = out_text(&o->via.map.ptr[i].key);
			char *v = out_text(&o->via.map.ptr[i].val);

			fprintf(f, "%s%s=%s", i > 0 ? " " : "", k ? k : "",
			    v ? v : "");
			free(k);
			free(v);
		}
		break;
	default:
		json_obj(f, o, 0);
		break;
	}
	fclose(f);
	return buf;
}

/* A list of records as an aligned table, columns from the first one. */
static void
out_table(FILE *f, const msgpack_object *arr)
{
	const msgpack_object *first = &arr->via.array.ptr[0];
	uint32_t ncol = first->via.map.size, nrow = arr->via.array.size;
	size_t *width;
	char **cell;

	width = calloc(ncol, sizeof(*width));
	cell = calloc((size_t)ncol * (nrow + 1), sizeof(*cell));
	if (width == NULL || cell == NULL) {
		free(width);
		free(cell);
		return;
	}
	for (uint32_t c = 0; c < ncol; c++) {
		cell[c] = out_text(&first->via.map.ptr[c].key);
	}
	for (uint32_t r = 0; r < nrow; r++) {
		const msgpack_object *row = &arr->via.array.ptr[r];

		for (uint32_t c = 0; c < ncol; c++) {
			const msgpack_object *v = NULL;

			if (row->type == MSGPACK_OBJECT_MAP) {
				for (uint32_t k = 0; k < row->via.map.size;
				     k++) {
					const msgpack_object *key =
					    &row->via.map.ptr[k].key;
					const msgpack_object *h =
					    &first->via.map.ptr[c].key;

					if (key->type == MSGPACK_OBJECT_STR &&
					    h->type == MSGPACK_OBJECT_STR &&
					    key->via.str.size ==
						h->via.str.size &&
					    memcmp(key->via.str.ptr,
						h->via.str.ptr,
						h->via.str.size) == 0) {
						v = &row->via.map.ptr[k].val;
						break;
					}
				}
			}
			cell[(size_t)(r + 1) * ncol + c] =
			    v != NULL ? out_text(v) : strdup("-");
		}
	}
	for (size_t i = 0; i < (size_t)ncol * (nrow + 1); i++) {
		size_t len = cell[i] != NULL ? strlen(cell[i]) : 0;

		if (len > width[i % ncol]) {
			width[i % ncol] = len;
		}
	}
	for (uint32_t r = 0; r <= nrow; r++) {
		for (uint32_t c = 0; c < ncol; c++) {
			const char *s = cell[(size_t)r * ncol + c];

			if (c + 1 == ncol) {
				fprintf(f, "%s", s != NULL ? s : "");
			} else {
				fprintf(f, "%-*s  ", (int)width[c],
				    s != NULL ? s : "");
			}
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < (size_t)ncol * (nrow + 1); i++) {
		free(cell[i]);
	}
	free(cell);
	free(width);
}

/* A record as "key  value" lines; nested records as "key.sub". */
static void
out_record(FILE *f, const msgpack_object *map, const char *prefix,
    size_t width)
{
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *v = &map->via.map.ptr[i].val;
		char *k = out_text(&map->via.map.ptr[i].key);
		char key[256];

		snprintf(key, sizeof(key), "%s%s", prefix, k ? k : "");
		free(k);
		if (v->type == MSGPACK_OBJECT_MAP && v->via.map.size > 0) {
			char sub[260];

			snprintf(sub, sizeof(sub), "%s.", key);
			out_record(f, v, sub, width);
		} else {
			char *s = out_text(v);

			fprintf(f, "%-*s  %s\n", (int)width, key, s ? s : "");
			free(s);
		}
	}
}

static size_t
out_key_width(const msgpack_object *map, size_t prefix)
{
	size_t w = 0;

	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		const msgpack_object *v = &map->via.map.ptr[i].val;
		size_t len = prefix +
		    (k->type == MSGPACK_OBJECT_STR ? k->via.str.size : 1);

		if (v->type == MSGPACK_OBJECT_MAP && v->via.map.size > 0) {
			len = out_key_width(v, len + 1);
		}
		if (len > w) {
			w = len;
		}
	}
	return w;
}

void
out_data(FILE *f, const msgpack_object *data)
{
	if (data == NULL || data->type == MSGPACK_OBJECT_NIL) {
		return;
	}
	if (data->type == MSGPACK_OBJECT_STR) {
		fwrite(data->via.str.ptr, 1, data->via.str.size, f);
		if (data->via.str.size > 0 &&
		    data->via.str.ptr[data->via.str.size - 1] != '\n') {
			fputc('\n', f);
		}
	} else if (data->type == MSGPACK_OBJECT_ARRAY) {
		if (data->via.array.size == 0) {
			fputs("(none)\n", f);
		} else if (data->via.array.ptr[0].type == MSGPACK_OBJECT_MAP &&
		    data->via.array.ptr[0].via.map.size > 0) {
			out_table(f, data);
		} else {
			char *s = out_text(data);

			fprintf(f, "%s\n", s ? s : "");
			free(s);
		}
	} else if (data->type == MSGPACK_OBJECT_MAP) {
		out_record(f, data, "", out_key_width(data, 0));
	} else {
		char *s = out_text(data);

		fprintf(f, "%s\n", s ? s : "");
		free(s);
	}
	fflush(f);
}
