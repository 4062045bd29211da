/*
 * banned.h — functions that are never used here (git's banned.h): each
 * overflows a buffer or keeps hidden state, and each has a bounded or
 * reentrant form that says what it does. Every .c of common/, src/, s3/,
 * fuse/ and tools/ includes this last (make check-layers checks), so a
 * use is a compile error naming the function.
 *
 *   strcpy, strcat, strncpy, strncat  -> snprintf, memcpy with a length
 *   sprintf, vsprintf                 -> snprintf, vsnprintf, buf_addf
 *   gets                              -> fgets
 *   strtok                            -> strtok_r, strcspn
 *   atoi, atol, atoll                 -> strtol/strtoull with checks
 *   gmtime, localtime, ctime, asctime -> gmtime_r, localtime_r
 */
#ifndef COMMON_BANNED_H
#define COMMON_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atoll
#define atoll(x) BANNED(atoll)
#undef gmtime
#define gmtime(x) BANNED(gmtime)
#undef localtime
#define localtime(x) BANNED(localtime)
#undef ctime
#define ctime(x) BANNED(ctime)
#undef asctime
#define asctime(x) BANNED(asctime)

#endif
