// Fills a KernelSet from the kernels of kernels_impl.hpp (included after it, inside the same
// per-ISA namespace). Types without a fast kernel stay null: dispatch uses scalar for them.

template <template <class> class K>
void put3(KernelSet &set, int32_t type) {
  set.fn[type][kOutF32] = &K<OutF32>::run;
  set.fn[type][kOutF16] = &K<OutF16>::run;
  set.fn[type][kOutBF16] = &K<OutBF16>::run;
}

#define DQ_FAST_KERNEL(name)                                                   \
  template <class O>                                                           \
  struct name##_entry {                                                        \
    static void run(const uint8_t *src, void *dst, int64_t n) { name<O>(src, dst, n); } \
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

inline KernelSet make_set(const char *isa) {
  KernelSet set{};
  set.isa = isa;
  put3<k_f32_entry>(set, 0);
  put3<k_f16_entry>(set, 1);
  put3<k_bf16_entry>(set, 30);
  put3<k_q4_0_entry>(set, 2);
  put3<k_q4_1_entry>(set, 3);
  put3<k_q5_0_entry>(set, 6);
  put3<k_q5_1_entry>(set, 7);
  put3<k_q8_0_entry>(set, 8);
  put3<k_q2_K_entry>(set, 10);
  put3<k_q3_K_entry>(set, 11);
  put3<k_q4_K_entry>(set, 12);
  put3<k_q5_K_entry>(set, 13);
  put3<k_q6_K_entry>(set, 14);
  put3<k_q8_K_entry>(set, 15);
  put3<k_iq4_nl_entry>(set, 20);
  put3<k_iq4_xs_entry>(set, 23);
  put3<k_tq1_0_entry>(set, 34);
  put3<k_tq2_0_entry>(set, 35);
  put3<k_mxfp4_entry>(set, 39);
  put3<k_q1_0_entry>(set, 41);
  put3<k_iq2_xxs_entry>(set, 16);
  put3<k_iq2_xs_entry>(set, 17);
  put3<k_iq2_s_entry>(set, 22);
  put3<k_iq3_xxs_entry>(set, 18);
  put3<k_iq3_s_entry>(set, 21);
  put3<k_iq1_s_entry>(set, 19);
  put3<k_iq1_m_entry>(set, 29);
  put3<k_nvfp4_entry>(set, 40);
  put3<k_q2_0_entry>(set, 42);
  return set;
}
