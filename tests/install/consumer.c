/* An out-of-tree user of an installed dq: dequantizes one tensor of a GGUF file to f32 and
 * compares the bytes with its golden file. Built twice by run_install_test.sh, once through
 * find_package(dq) and once through pkg-config, against a relocated install prefix.
 * Usage: consumer FILE.gguf TENSOR GOLDEN.f32   (exit 0: bit-identical) */
#include <dq/dq.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *detail) {
  fprintf(stderr, "consumer: %s: %s\n", what, detail);
  return 1;
}

static int read_file(const char *path, unsigned char **out, long *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  int ok = fseek(f, 0, SEEK_END) == 0 && (*size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0;
  *out = ok ? malloc((size_t)*size + 1) : NULL;
  ok = *out && fread(*out, 1, (size_t)*size, f) == (size_t)*size;
  fclose(f);
  return ok;
}

static int run(dq_context *ctx, const char *gguf, const char *tensor, const char *golden) {
  dq_model *model = NULL;
  if (dq_model_open(ctx, gguf, &model) != DQ_OK) return fail(gguf, dq_last_error(ctx));
  int rc = 1;
  float *out = NULL;
  unsigned char *expected = NULL;
  long expected_size = 0;
  dq_tensor_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  const int64_t index = dq_model_tensor_find(model, tensor);
  if (index < 0 || dq_model_tensor_info(model, index, &info) != DQ_OK) {
    fail(tensor, "not found");
    goto done;
  }
  if (!read_file(golden, &expected, &expected_size) ||
      expected_size != info.n_elements * (long)sizeof(float)) {
    fail(golden, "missing, unreadable or of the wrong size");
    goto done;
  }
  out = malloc((size_t)info.n_elements * sizeof(float));
  dq_dequantize_request req;
  memset(&req, 0, sizeof req);
  req.struct_size = sizeof req;
  req.src_type = info.type;
  req.dst_type = DQ_TYPE_F32;
  req.src = info.data;
  req.src_bytes = info.n_bytes;
  req.n_elements = info.n_elements;
  req.dst = out;
  req.dst_bytes = (size_t)info.n_elements * sizeof(float);
  if (!out || dq_dequantize(ctx, &req) != DQ_OK) {
    fail(tensor, dq_last_error(ctx));
    goto done;
  }
  if (memcmp(out, expected, req.dst_bytes) != 0) {
    fail(tensor, "f32 output differs from the golden file");
    goto done;
  }
  /* Which plugin file served it: the test checks it lies in the installed prefix. */
  const int32_t backend = dq_backend_find(ctx, dq_last_backend(ctx));
  dq_backend_info binfo;
  memset(&binfo, 0, sizeof binfo);
  binfo.struct_size = sizeof binfo;
  if (backend < 0 || dq_backend_get_info(ctx, backend, &binfo) != DQ_OK) {
    fail(tensor, "no information on the backend that served it");
    goto done;
  }
  printf("%s %s: %lld elements match the golden (dq %s, backend %s at %s)\n", gguf, tensor,
         (long long)info.n_elements, dq_version_string(), binfo.name, binfo.path);
  rc = 0;
done:
  free(out);
  free(expected);
  dq_model_close(model);
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: consumer FILE.gguf TENSOR GOLDEN.f32\n");
    return 2;
  }
  dq_context *ctx = NULL;
  if (dq_context_create(&ctx) != DQ_OK) return fail("dq_context_create", "failed");
  const int rc = run(ctx, argv[1], argv[2], argv[3]);
  dq_context_destroy(ctx);
  return rc;
}
