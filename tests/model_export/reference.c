/* The C reference of `qdiff export` (docs/export.md): the exported model recomputed node by node
 * from its float input, each node from its producers' C outputs (gathered through the data
 * movement between them), and every node's output compared with LibTorch's int_repr() (the
 * dequantized output: bit for bit). Uses only the exported header.
 * Build: cc -std=c99 -O2 -ffp-contract=off -DQDIFF_HEADER='"model.h"' reference.c -lm, or with
 * -DQDIFF_NO_FLOAT -mgeneral-regs-only for the integer-only form (no float type at all).
 * Exit 0 when every element of every node agrees, 1 otherwise. QDIFF_Q31=1 also requantizes
 * every conv2d/linear layer in the Q31 fixed-point form (gemmlowp double rounding) on the same
 * inputs and reports how many elements it gets different; it is not what the engine does and does
 * not feed the next node. QDIFF_VERBOSE=1 prints every node. */
#include <stdio.h>
#include <stdlib.h>

#include QDIFF_HEADER

/* gemmlowp: SaturatingRoundingDoublingHighMul then RoundingDivideByPOT (ties away from zero). */
static int32_t requant_q31(const qdiff_layer* L, long oc, int64_t acc) {
  int64_t a = acc + L->bias_int32[oc];
  int32_t m0 = L->m0[oc], shift = L->shift[oc];
  int64_t x = a, r;
  if (shift > 0) x = x * ((int64_t)1 << shift);
  if (x > INT32_MAX) x = INT32_MAX;
  if (x < INT32_MIN) x = INT32_MIN;
  if (x == INT32_MIN && m0 == INT32_MIN) {
    r = INT32_MAX;
  } else {
    int64_t ab = x * (int64_t)m0;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    r = (ab + nudge) / (1ll << 31);
  }
  if (shift < 0) {
    int e = -shift;
    int64_t mask = ((int64_t)1 << e) - 1, rem = r & mask, thr = (mask >> 1) + (r < 0 ? 1 : 0);
    r = (r >> e) + (rem > thr ? 1 : 0);
  }
  r += L->y_zp;
  if (r < L->qmin) r = L->qmin;
  if (r > L->qmax) r = L->qmax;
  return (int32_t)r;
}

static void* checked_malloc(size_t n) {
  void* p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}

int main(void) {
  const int q31 = getenv("QDIFF_Q31") && atoi(getenv("QDIFF_Q31"));
  const int verbose = getenv("QDIFF_VERBOSE") && atoi(getenv("QDIFF_VERBOSE"));
  int32_t* out[QDIFF_NUM_NODES];
  long total = 0, bad = 0, layer_total = 0, layer_bad = 0, q31_bad = 0;
  int k, layers = 0, from_libtorch = 0, captured_inputs = 0, model_output_ok = -1;
  for (k = 0; k < QDIFF_NUM_NODES; ++k) {
    const qdiff_node* N = &qdiff_nodes[k];
    int32_t** x = (int32_t**)checked_malloc(sizeof(int32_t*) * (size_t)(N->n_inputs ? N->n_inputs : 1));
    uint32_t* y_f32 = N->kind == QDIFF_NODE_DEQUANTIZE ? (uint32_t*)checked_malloc(sizeof(uint32_t) * (size_t)N->out_numel) : 0;
    long i, node_bad = 0;
    int t;
    out[k] = (int32_t*)checked_malloc(sizeof(int32_t) * (size_t)N->out_numel);
    for (t = 0; t < N->n_inputs; ++t) { /* gather each input from its producer, or LibTorch's */
      x[t] = (int32_t*)checked_malloc(sizeof(int32_t) * (size_t)N->in_numel[t]);
      for (i = 0; i < N->in_numel[t]; ++i) {
        if (N->src[t] < 0) {
          x[t][i] = N->captured[t][i];
        } else {
          x[t][i] = out[N->src[t]][N->gather[t] ? N->gather[t][i] : i];
        }
      }
      captured_inputs += N->src[t] < 0;
    }
    qdiff_run_node(N, (const int32_t* const*)x, out[k], y_f32);
    from_libtorch += N->kind == QDIFF_NODE_LIBTORCH;
    for (i = 0; i < N->out_numel; ++i) {
      if (N->kind == QDIFF_NODE_DEQUANTIZE) { /* bit for bit; +0 and -0 alike */
        node_bad += y_f32[i] != N->expected_f32[i] && ((y_f32[i] | N->expected_f32[i]) & 0x7FFFFFFFu) != 0;
      } else {
        node_bad += out[k][i] != N->expected[i];
      }
    }
    if (N->kind == QDIFF_NODE_DEQUANTIZE) model_output_ok = node_bad == 0;
    total += N->out_numel;
    bad += node_bad;
    if (N->kind == QDIFF_NODE_GEMM) {
      ++layers;
      layer_total += N->out_numel;
      layer_bad += node_bad;
      if (q31) {
        int32_t* y = (int32_t*)checked_malloc(sizeof(int32_t) * (size_t)N->out_numel);
        long layer_q31 = 0;
        qdiff_run_gemm(N, x[0], y, requant_q31);
        for (i = 0; i < N->out_numel; ++i) layer_q31 += y[i] != N->expected[i];
        q31_bad += layer_q31;
        if (verbose) printf("  Q31 form of node %d: %ld mismatches\n", k, layer_q31);
        free(y);
      }
    }
    if (verbose || node_bad) {
      printf("%s node %d %s (%s, %s%s): %ld / %ld mismatches\n", QDIFF_ENGINE, k, N->module, N->op, N->recipe,
             N->kind == QDIFF_NODE_LIBTORCH ? ", no C form: LibTorch's output" : "", node_bad, N->out_numel);
    }
    for (t = 0; t < N->n_inputs; ++t) free(x[t]);
    free(x);
    free(y_f32);
  }
#ifdef QDIFF_NO_FLOAT
  const char* form = "engine recipe, integer-only";
#else
  const char* form = "engine binary32";
#endif
  printf("%s: %d layers, %ld elements, %ld mismatches (%s)\n", QDIFF_ENGINE, layers, layer_total, layer_bad, form);
  if (q31) printf("%s: %d layers, %ld elements, %ld mismatches (Q31 double rounding)\n", QDIFF_ENGINE, layers, layer_total, q31_bad);
  printf("%s: whole graph: %d nodes, %ld elements, %ld mismatches (%s); %d nodes without C form, %d inputs "
         "taken from LibTorch; model output %s\n",
         QDIFF_ENGINE, QDIFF_NUM_NODES, total, bad, form, from_libtorch, captured_inputs,
         model_output_ok < 0 ? "not dequantized" : model_output_ok ? "bit for bit" : "DIFFERS");
  for (k = 0; k < QDIFF_NUM_NODES; ++k) free(out[k]);
  return bad != 0;
}
