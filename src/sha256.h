/* sha256: a small, dependency-free SHA-256 (FIPS 180-4), used for the
 * checksum that names a profile's exact bytes in the persisted sysctl.d
 * header. Incremental: feed any number of chunks, then finish once. */
#ifndef QTUNE_SHA256_H
#define QTUNE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN (2 * SHA256_DIGEST_LEN + 1)   /* with the NUL */

struct sha256 {
	uint32_t h[8];
	uint64_t total;         /* bytes fed so far */
	uint8_t buf[64];
	size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Writes the digest; s must be initialised again before further use. */
void sha256_final(struct sha256 *s, uint8_t digest[SHA256_DIGEST_LEN]);
/* As sha256_final, as lower-case hex. */
void sha256_final_hex(struct sha256 *s, char hex[SHA256_HEX_LEN]);

#endif
