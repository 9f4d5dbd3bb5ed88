/* Parameter structs shared by every kernel (the CMSIS-NN pattern: dims, quant params, bounds). */
#ifndef HK_NN_TYPES_H
#define HK_NN_TYPES_H

#include <stdint.h>

typedef enum {
    HK_OK = 0,
    HK_ERR_NULL = 1,   /* a required pointer is NULL */
    HK_ERR_DIMS = 2,   /* a dimension is not positive or the shapes do not agree */
    HK_ERR_QUANT = 3,  /* a zero point, multiplier, shift or activation bound is out of range */
    HK_ERR_BUFFER = 4, /* the scratch buffer is missing or smaller than *_get_buffer_size says */
    HK_ERR_LAYER = 5   /* the model has no layer with that index */
} hk_status;

/* An NHWC activation tensor of batch 1, or a filter's (h, w, c). */
typedef struct {
    int32_t h;
    int32_t w;
    int32_t c;
} hk_dims;

typedef struct {
    int32_t h;
    int32_t w;
} hk_hw;

typedef struct {
    int32_t top;
    int32_t bottom;
    int32_t left;
    int32_t right;
} hk_padding;

/* Output clamp in the output's int8 grid (a fused ReLU is min = output zero point). */
typedef struct {
    int32_t min;
    int32_t max;
} hk_activation;

/* Requantizer: one (multiplier, shift) for the tensor (count 1) or one per output channel. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t count;
} hk_quant;

typedef struct {
    int32_t input_offset;  /* minus the input zero point */
    int32_t output_offset; /* the output zero point */
    hk_hw stride;
    hk_hw dilation;
    hk_padding padding;
    hk_activation activation;
} hk_conv_params;

typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    hk_activation activation;
} hk_fc_params;

/* Pooling: padded positions are left out of the max and of the average's count (TFLite). */
typedef struct {
    hk_hw stride;
    hk_padding padding;
    hk_activation activation;
} hk_pool_params;

/* TFLite ADD: each input is offset, shifted left by left_shift, rescaled by its own requantizer;
 * the sum is rescaled by the output requantizer. */
typedef struct {
    int32_t input1_offset;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_offset;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_offset;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t left_shift;
    hk_activation activation;
} hk_add_params;

/* TFLite integer softmax: differences to the row maximum scaled to Q5.26 by the beta multiplier;
 * differences below diff_min contribute nothing. Output grid 1/256, -128. */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;
} hk_softmax_params;

/* Scratch memory for kernels that need it; size from the kernel's *_get_buffer_size. */
typedef struct {
    void *buf;
    int32_t size;
} hk_context;

#endif
