#include "common/json_scalar.h"

#include <stdio.h>

#include "common/json_write.h"
#include "common/banned.h"

const char *json_scalar_text(const json_t *v, char *buf, size_t size)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_true(v) || json_is_false(v))
		return json_is_true(v) ? "true" : "false";
	if (json_is_integer(v)) {
		int n = snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return n < 0 || (size_t)n >= size ? NULL : buf;
	}
	if (json_is_real(v) && !json_fmt_double(json_real_value(v), buf, size))
		return buf;
	return NULL;
}
