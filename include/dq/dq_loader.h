/*
 * dq_loader.h: loading a whole GGUF (or chosen tensors / row ranges) onto a device.
 * Included by dq.h; do not include on its own. Owned by the model-loader work.
 */
#ifndef DQ_DQ_LOADER_H
#define DQ_DQ_LOADER_H

#ifdef __cplusplus
extern "C" {
#endif

/* (declarations land with the loader) */

#ifdef __cplusplus
}
#endif

#endif /* DQ_DQ_LOADER_H */
