/* Known-answer tests for sha256 (FIPS 180-2 appendix B vectors and the
 * padding boundaries around 56 and 64 bytes), one-shot and chunked. */
#include <criterion/criterion.h>
#include <string.h>

#include "sha256.h"
#include "util.h"

static void hash_hex(const void *data, size_t len, size_t chunk, char hex[SHA256_HEX_LEN])
{
	struct sha256 s;
	const char *p = data;

	sha256_init(&s);
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk)
		sha256_update(&s, p + off, len - off < chunk ? len - off : chunk);
	sha256_final_hex(&s, hex);
}

static void check_all_chunkings(const char *data, size_t len, const char *want)
{
	static const size_t chunks[] = { 0, 1, 3, 55, 63, 64, 65, 1000 };
	char hex[SHA256_HEX_LEN];

	for (size_t i = 0; i < ARRAY_SIZE(chunks); i++) {
		hash_hex(data, len, chunks[i], hex);
		cr_assert_str_eq(hex, want, "len %zu chunk %zu", len, chunks[i]);
	}
}

Test(sha256, empty)
{
	check_all_chunkings("", 0,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

Test(sha256, abc)
{
	check_all_chunkings("abc", 3,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(sha256, two_blocks_448_bits)
{
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	check_all_chunkings(m, strlen(m),
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256, two_blocks_896_bits)
{
	const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
			"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

	check_all_chunkings(m, strlen(m),
		"cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

/* Lengths where the padding spills into a second block or fills one. */
Test(sha256, padding_boundaries)
{
	static const struct { size_t n; const char *hex; } v[] = {
		{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
		{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
		{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
		{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
		{ 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
	};
	char buf[65];

	memset(buf, 'a', sizeof(buf));
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		check_all_chunkings(buf, v[i].n, v[i].hex);
}

Test(sha256, million_a)
{
	size_t n = 1000000;
	char *m = xmalloc(n);

	memset(m, 'a', n);
	check_all_chunkings(m, n,
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(m);
}
