// Fills a KernelSet from the kernels of simd/kernels_*.hpp (included after them, inside the
// same per-ISA namespace). Types without a fast kernel stay null: dispatch uses scalar for them.

template <template <class> class K, bool Stream>
void put3_with(KernelSet &set, int32_t type) {
  set.fn[type][kOutF32] = &K<OutF32<Stream>>::run;
  set.fn[type][kOutF16] = &K<OutF16<Stream>>::run;
  set.fn[type][kOutBF16] = &K<OutBF16<Stream>>::run;
}

#define DQ_FAST_KERNEL(name)                                                   \
  template <class O>                                                           \
  struct name##_entry {                                                        \
    static void run(const uint8_t *src, void *dst, int64_t n) {                \
      name<O>(src, dst, n);                                                    \
      if constexpr (O::kStream) Simd::fence();                                 \
    }                                                                          \
  };
DQ_FAST_KERNEL(k_f32)
DQ_FAST_KERNEL(k_f16)
DQ_FAST_KERNEL(k_bf16)
DQ_FAST_KERNEL(k_q4_0)
DQ_FAST_KERNEL(k_q4_1)
DQ_FAST_KERNEL(k_q5_0)
DQ_FAST_KERNEL(k_q5_1)
DQ_FAST_KERNEL(k_q8_0)
DQ_FAST_KERNEL(k_iq4_nl)
DQ_FAST_KERNEL(k_mxfp4)
DQ_FAST_KERNEL(k_q8_K)
DQ_FAST_KERNEL(k_q4_K)
DQ_FAST_KERNEL(k_q5_K)
DQ_FAST_KERNEL(k_q6_K)
DQ_FAST_KERNEL(k_q2_K)
DQ_FAST_KERNEL(k_q3_K)
DQ_FAST_KERNEL(k_iq4_xs)
DQ_FAST_KERNEL(k_tq2_0)
DQ_FAST_KERNEL(k_tq1_0)
DQ_FAST_KERNEL(k_q1_0)
DQ_FAST_KERNEL(k_iq2_xxs)
DQ_FAST_KERNEL(k_iq2_xs)
DQ_FAST_KERNEL(k_iq2_s)
DQ_FAST_KERNEL(k_iq3_xxs)
DQ_FAST_KERNEL(k_iq3_s)
DQ_FAST_KERNEL(k_iq1_s)
DQ_FAST_KERNEL(k_iq1_m)
DQ_FAST_KERNEL(k_nvfp4)
DQ_FAST_KERNEL(k_q2_0)
#undef DQ_FAST_KERNEL

template <bool Stream>
KernelSet make_set_with(const char *isa) {
  KernelSet set{};
  set.isa = isa;
  put3_with<k_f32_entry, Stream>(set, 0);
  put3_with<k_f16_entry, Stream>(set, 1);
  put3_with<k_bf16_entry, Stream>(set, 30);
  put3_with<k_q4_0_entry, Stream>(set, 2);
  put3_with<k_q4_1_entry, Stream>(set, 3);
  put3_with<k_q5_0_entry, Stream>(set, 6);
  put3_with<k_q5_1_entry, Stream>(set, 7);
  put3_with<k_q8_0_entry, Stream>(set, 8);
  put3_with<k_q2_K_entry, Stream>(set, 10);
  put3_with<k_q3_K_entry, Stream>(set, 11);
  put3_with<k_q4_K_entry, Stream>(set, 12);
  put3_with<k_q5_K_entry, Stream>(set, 13);
  put3_with<k_q6_K_entry, Stream>(set, 14);
  put3_with<k_q8_K_entry, Stream>(set, 15);
  put3_with<k_iq4_nl_entry, Stream>(set, 20);
  put3_with<k_iq4_xs_entry, Stream>(set, 23);
  put3_with<k_tq1_0_entry, Stream>(set, 34);
  put3_with<k_tq2_0_entry, Stream>(set, 35);
  put3_with<k_mxfp4_entry, Stream>(set, 39);
  put3_with<k_q1_0_entry, Stream>(set, 41);
  put3_with<k_iq2_xxs_entry, Stream>(set, 16);
  put3_with<k_iq2_xs_entry, Stream>(set, 17);
  put3_with<k_iq2_s_entry, Stream>(set, 22);
  put3_with<k_iq3_xxs_entry, Stream>(set, 18);
  put3_with<k_iq3_s_entry, Stream>(set, 21);
  put3_with<k_iq1_s_entry, Stream>(set, 19);
  put3_with<k_iq1_m_entry, Stream>(set, 29);
  put3_with<k_nvfp4_entry, Stream>(set, 40);
  put3_with<k_q2_0_entry, Stream>(set, 42);
  return set;
}

// The regular set, pointing at its non-temporal twin.
inline const KernelSet &kernel_set(const char *isa) {
  static const KernelSet streaming = make_set_with<true>(isa);
  static const KernelSet regular = [&] {
    KernelSet set = make_set_with<false>(isa);
    set.streaming = &streaming;
    return set;
  }();
  return regular;
}
