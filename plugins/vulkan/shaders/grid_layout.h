// Word offsets of the i-quant tables in the grids buffer (binding 2), shared by the shaders
// (GLSL preprocessor) and grids.cpp, which fills the buffer from dq_common/grids.hpp.
// 64-bit grid entries take two words, low word first; ksigns_iq2xs one word per byte.
#ifndef DQ_VULKAN_GRID_LAYOUT_H
#define DQ_VULKAN_GRID_LAYOUT_H
#define DQ_GRID_SIGNS_IQ2XS 0u     // 128 entries
#define DQ_GRID_IQ2XXS 128u        // 256 x 2 words
#define DQ_GRID_IQ2XS 640u         // 512 x 2
#define DQ_GRID_IQ2S 1664u         // 1024 x 2
#define DQ_GRID_IQ3XXS 3712u       // 256 x 1
#define DQ_GRID_IQ3S 3968u         // 512 x 1
#define DQ_GRID_IQ1S 4480u         // 2048 x 2
#define DQ_GRID_WORDS 8576u
#endif
