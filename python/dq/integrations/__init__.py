"""Hooks that route other projects' GGUF dequantization through dq, each one call and
reversible, each falling back to the project's own code for anything dq cannot do:

    dq.integrations.transformers.enable()   # from_pretrained(..., gguf_file=...)
    dq.integrations.diffusers.enable()      # GGUFQuantizer / dequantize_gguf_tensor
    dq.integrations.comfyui.enable()        # ComfyUI-GGUF's dequantize_functions table

Each needs torch (and the project it hooks); importing dq alone imports none of them.
See docs/PYTHON.md.
"""
