// Every check function, by area. Each takes the child's Judge and its CheckSpec and returns
// an Outcome; a crash inside one is caught by the isolation layer and named after it.
#pragma once

#include <string>

#include "check.hpp"

namespace dq::conformance {

// checks_handshake.cpp: loading, versions and the table (probe group, no init before `init`).
Outcome check_load(Judge &, const CheckSpec &);
Outcome check_entry_symbol(Judge &, const CheckSpec &);
Outcome check_abi_version(Judge &, const CheckSpec &);
Outcome check_struct_size(Judge &, const CheckSpec &);
Outcome check_name(Judge &, const CheckSpec &);
Outcome check_required_functions(Judge &, const CheckSpec &);
Outcome check_optional_groups(Judge &, const CheckSpec &);
Outcome check_init(Judge &, const CheckSpec &);
Outcome check_devices(Judge &, const CheckSpec &);
Outcome check_last_error(Judge &, const CheckSpec &);
Outcome check_supports_table(Judge &, const CheckSpec &);  // also sends the probe's facts
Outcome check_fp_environment(Judge &, const CheckSpec &);
Outcome check_shutdown(Judge &, const CheckSpec &);

// checks_refusal.cpp: what the plugin does not advertise.
Outcome check_refuse_unknown_types(Judge &, const CheckSpec &);
Outcome check_refuse_retired_types(Judge &, const CheckSpec &);
Outcome check_refuse_not_dequantizable(Judge &, const CheckSpec &);
Outcome check_refuse_bad_output_types(Judge &, const CheckSpec &);
Outcome check_refuse_unadvertised(Judge &, const CheckSpec &);

// checks_arguments.cpp: malformed requests.
Outcome check_args_null_args(Judge &, const CheckSpec &);
Outcome check_args_struct_size(Judge &, const CheckSpec &);
Outcome check_args_unknown_type(Judge &, const CheckSpec &);
Outcome check_args_bad_output_type(Judge &, const CheckSpec &);
Outcome check_args_not_block_multiple(Judge &, const CheckSpec &);
Outcome check_args_zero_elements(Judge &, const CheckSpec &);
Outcome check_args_negative_elements(Judge &, const CheckSpec &);
Outcome check_args_null_src(Judge &, const CheckSpec &);
Outcome check_args_null_dst(Judge &, const CheckSpec &);
Outcome check_args_short_source(Judge &, const CheckSpec &);
Outcome check_args_short_destination(Judge &, const CheckSpec &);
Outcome check_args_size_overflow(Judge &, const CheckSpec &);
Outcome check_args_bad_device(Judge &, const CheckSpec &);
Outcome check_args_device_memory_on_host_plugin(Judge &, const CheckSpec &);

// checks_values.cpp: outputs of one advertised (type, output) pair.
Outcome check_value_one_block(Judge &, const CheckSpec &);
Outcome check_value_random_odd(Judge &, const CheckSpec &);
Outcome check_value_large(Judge &, const CheckSpec &);
Outcome check_value_golden(Judge &, const CheckSpec &);
Outcome check_value_device_memory(Judge &, const CheckSpec &);
// PrepareFn of the reference-based value checks: their calls and the reference's outputs.
void prepare_value_reference(Judge &, const CheckSpec &);

// checks_threads.cpp
Outcome check_threads_concurrent(Judge &, const CheckSpec &);
Outcome check_threads_error_isolation(Judge &, const CheckSpec &);

// checks_batch.cpp: the optional dequantize_batch entry (ABI 1.2).
Outcome check_batch_identical(Judge &, const CheckSpec &);
Outcome check_batch_refuse_bad(Judge &, const CheckSpec &);

// checks_errors.cpp: last_error() in a fresh process, on a fresh thread, after a success.
Outcome check_last_error_fresh(Judge &, const CheckSpec &);
Outcome check_last_error_after_success(Judge &, const CheckSpec &);

// checks_leaks.cpp: memory growth over many calls.
Outcome check_leaks_dequantize(Judge &, const CheckSpec &);

// checks_memory.cpp: device memory functions.
Outcome check_memory_balance(Judge &, const CheckSpec &);
Outcome check_memory_copy_roundtrip(Judge &, const CheckSpec &);
Outcome check_memory_huge_alloc(Judge &, const CheckSpec &);

// Shared by the files above.
// "Q6_K", "F32", "IQ2_XXS"; "id 156" for ids outside the table.
std::string type_label(int32_t type);
// "f32", "f16", "bf16"; "out 7" otherwise.
std::string output_label(int32_t type);
// The advertised pair used by the argument checks (block > 1 preferred, f32 preferred).
bool argument_pair(const PluginFacts &facts, int32_t *src_type, int32_t *dst_type);

}  // namespace dq::conformance
