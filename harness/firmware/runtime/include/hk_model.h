/* The interface between the generated model code and the runner. */
#ifndef HK_MODEL_H
#define HK_MODEL_H

#include <stdint.h>

#include "hk_nn_types.h"

/* A tensor in memory, for the per-layer output checksum. */
typedef struct {
    const int8_t *data;
    uint32_t size;
} hk_tensor_view;

typedef struct {
    const char *name;
    const char *build_id; /* hash of the host's build inputs, echoed so the host knows the ELF */
    uint32_t num_layers;
    uint32_t num_samples;
    uint32_t input_size;
    uint32_t output_size;
    const int8_t *samples; /* num_samples x input_size test inputs */
    int8_t *input;         /* the input tensor in the arena */
    const int8_t *output;  /* the output tensor in the arena */
    uint32_t weight_bytes;
    uint32_t arena_bytes;
    const hk_tensor_view *layer_outputs; /* num_layers entries: what each layer wrote */
} hk_model_desc;

extern const hk_model_desc hk_model;

/* Run layer `index` of the schedule on the arena (its kernel does not check its arguments). */
hk_status hk_model_run_layer(uint32_t index);

/* The checks of layer `index`'s kernel call (hk_<kernel>_check): HK_CHECK_OK, or the id of the
 * first that fails. The runner asks once per layer, before anything is timed. */
hk_check_id hk_model_check_layer(uint32_t index);

#endif
