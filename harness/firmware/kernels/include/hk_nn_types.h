/**
 * @file hk_nn_types.h
 * @brief Parameter structs shared by every kernel (the CMSIS-NN pattern: dims, quantization
 *        parameters, bounds). All fields are int32_t or pointers; the host mirrors each struct in
 *        ctypes (harness/build/host.py), so a field's order and type are part of the ABI.
 */
#ifndef HK_NN_TYPES_H
#define HK_NN_TYPES_H

#include <stdint.h>

/** @brief What a kernel (or the runtime) returns. */
typedef enum {
    HK_OK = 0,         /**< every check passed and the output is written */
    HK_ERR_NULL = 1,   /**< a required pointer is NULL */
    HK_ERR_DIMS = 2,   /**< a dimension is not positive or the shapes do not agree */
    HK_ERR_QUANT = 3,  /**< a zero point, multiplier, shift or activation bound is out of range */
    HK_ERR_BUFFER = 4, /**< the scratch buffer is missing or smaller than *_get_buffer_size says
                            (the portable kernels need none, so they never return it) */
    HK_ERR_LAYER = 5   /**< the model has no layer with that index (the runtime's
                            hk_model_run_layer; never a kernel's) */
} hk_status;

/** @brief Which check of a kernel's contract failed: what hk_<kernel>_check returns (hk_nn.h),
 *         HK_CHECK_OK when every check passed. The runner prints it in its @error record
 *         (`check=`), so a refused layer says what was wrong with it; hk_check_status gives the
 *         hk_status each id stands for. harness/protocol/records.py mirrors the names. */
typedef enum {
    HK_CHECK_OK = 0,           /**< every check passed (HK_OK) */
    HK_CHECK_POINTER = 1,      /**< a required pointer is NULL (HK_ERR_NULL) */
    HK_CHECK_DIMS = 2,         /**< a dimension or element count is not positive (HK_ERR_DIMS) */
    HK_CHECK_OFFSET = 3,       /**< a zero-point offset is out of range (HK_ERR_QUANT) */
    HK_CHECK_ACTIVATION = 4,   /**< an activation bound is outside int8, or min > max (HK_ERR_QUANT) */
    HK_CHECK_QUANT_COUNT = 5,  /**< the requantizer count is neither 1 nor the channels (HK_ERR_QUANT) */
    HK_CHECK_ROUNDING = 6,     /**< the requantizer rounding is neither double nor single (HK_ERR_QUANT) */
    HK_CHECK_REQUANTIZER = 7,  /**< a negative multiplier or a shift outside [-31, 30] (HK_ERR_QUANT) */
    HK_CHECK_WINDOW = 8,       /**< a kernel, stride or dilation < 1, a bad padding, or a window larger
                                    than the padded input (HK_ERR_DIMS) */
    HK_CHECK_OUTPUT_SHAPE = 9, /**< the output dims are not what the input and window give (HK_ERR_DIMS) */
    HK_CHECK_CHANNELS = 10,    /**< channel counts that disagree (HK_ERR_DIMS) */
    HK_CHECK_LIMIT = 11,       /**< a size beyond the kernel's limit: softmax depth, mean H * W (HK_ERR_DIMS) */
    HK_CHECK_PARAMETER = 12,   /**< an op's own parameter out of range: pad fill, add left_shift,
                                    softmax's multiplier, shift or diff_min (HK_ERR_QUANT) */
    HK_CHECK_SCRATCH = 13      /**< the scratch context is missing or smaller than the kernel's
                                    *_get_buffer_size (HK_ERR_BUFFER) */
} hk_check_id;

/** @brief The shape of an NHWC activation tensor of batch 1, or a filter's (KH, KW, C_IN). */
typedef struct {
    int32_t h; /**< rows (height); for a filter, KH */
    int32_t w; /**< columns (width); for a filter, KW */
    int32_t c; /**< channels, the fastest-varying index; for a filter, the input channel count
                    (also for depthwise filters, whose innermost extent is C_OUT) */
} hk_dims;

/** @brief A pair (rows, columns): a stride, a dilation or a pooling window. */
typedef struct {
    int32_t h; /**< along H (rows) */
    int32_t w; /**< along W (columns) */
} hk_hw;

/** @brief Explicit padding of a 2-D window or tensor, in positions; each must be >= 0. */
typedef struct {
    int32_t top;    /**< rows before the first input row */
    int32_t bottom; /**< rows after the last input row */
    int32_t left;   /**< columns before the first input column */
    int32_t right;  /**< columns after the last input column */
} hk_padding;

/** @brief Output clamp in the output's int8 grid (a fused ReLU is min = output zero point);
 *         kernels require -128 <= min <= max <= 127. */
typedef struct {
    int32_t min; /**< smallest output value, >= -128 */
    int32_t max; /**< largest output value, <= 127 and >= min */
} hk_activation;

/** @brief hk_quant.rounding: two roundings, SRDHM then a rounding divide (hk_requantize). */
#define HK_ROUND_DOUBLE 0
/** @brief hk_quant.rounding: one rounding of the 64-bit product (hk_requantize_single). */
#define HK_ROUND_SINGLE 1

/** @brief Requantizer: real scale multiplier * 2^(shift - 31), one for the tensor (count 1) or
 *         one per output channel (count = output channels), rounded as `rounding` says. */
typedef struct {
    const int32_t *multiplier; /**< count Q0.31 multipliers, each >= 0 */
    const int32_t *shift;      /**< count shifts, each in [HK_SHIFT_MIN, HK_SHIFT_MAX] = [-31, 30];
                                    > 0 shifts left before the multiply, < 0 rounds right after */
    int32_t count;             /**< 1 (per tensor) or the number of output channels */
    int32_t rounding;          /**< HK_ROUND_DOUBLE (0): gemmlowp's two roundings, TFLite's
                                    convolutions (hk_requantize); HK_ROUND_SINGLE (1): the 64-bit
                                    product rounded once, TFLite's fully connected
                                    (hk_requantize_single); any other value is HK_ERR_QUANT */
} hk_quant;

/** @brief Parameters of conv2d, depthwise_conv2d and pointwise_conv2d. */
typedef struct {
    int32_t input_offset;     /**< minus the input zero point, in [-127, 128] */
    int32_t output_offset;    /**< the output zero point, in [-128, 127] */
    hk_hw stride;             /**< step of the window between output positions, >= 1 */
    hk_hw dilation;           /**< step between filter taps, >= 1 (1 = dense filter) */
    hk_padding padding;       /**< implicit zero-point padding around the input (pointwise: 0) */
    hk_activation activation; /**< clamp of the output */
} hk_conv_params;

/** @brief Parameters of fully_connected, mean_hw and requantize: the zero points and the clamp of
 *         an output stage. */
typedef struct {
    int32_t input_offset;     /**< minus the input zero point, in [-127, 128] */
    int32_t output_offset;    /**< the output zero point, in [-128, 127] */
    hk_activation activation; /**< clamp of the output */
} hk_fc_params;

/** @brief Parameters of maxpool2d and avgpool2d. Padded positions are left out of the max and
 *         of the average's count (TFLite); the window size is passed separately (hk_hw pool). */
typedef struct {
    hk_hw stride;             /**< step of the window between output positions, >= 1 */
    hk_padding padding;       /**< each side >= 0 and smaller than the window along its axis */
    hk_activation activation; /**< clamp of the output, in the input's grid */
} hk_pool_params;

/** @brief Parameters of add (TFLite ADD): each input is offset, shifted left by left_shift and
 *         rescaled by its own requantizer; the sum is rescaled by the output requantizer. */
typedef struct {
    int32_t input1_offset;     /**< minus input 1's zero point, in [-127, 128] */
    int32_t input1_multiplier; /**< input 1's rescale multiplier (Q0.31), >= 0 */
    int32_t input1_shift;      /**< input 1's rescale shift, in [HK_SHIFT_MIN, HK_SHIFT_MAX] */
    int32_t input2_offset;     /**< minus input 2's zero point, in [-127, 128] */
    int32_t input2_multiplier; /**< input 2's rescale multiplier (Q0.31), >= 0 */
    int32_t input2_shift;      /**< input 2's rescale shift, in [HK_SHIFT_MIN, HK_SHIFT_MAX] */
    int32_t output_offset;     /**< the output zero point, in [-128, 127] */
    int32_t output_multiplier; /**< the sum's rescale multiplier (Q0.31), >= 0 */
    int32_t output_shift;      /**< the sum's rescale shift, in [HK_SHIFT_MIN, HK_SHIFT_MAX] */
    int32_t left_shift;        /**< headroom shift applied to both offset inputs, in [0, 23] */
    hk_activation activation;  /**< clamp of the output */
} hk_add_params;

/** @brief Parameters of softmax (TFLite integer softmax): differences to the row maximum scaled
 *         to Q5.26 by the beta multiplier; differences below diff_min contribute nothing. The
 *         output grid is fixed: scale 1/256, zero point -128. */
typedef struct {
    int32_t input_multiplier; /**< Q0.31 multiplier, >= 0; with input_left_shift it stands for
                                   beta * input scale * 2^26: a difference d becomes
                                   srdhm(d << input_left_shift, input_multiplier), in Q5.26 */
    int32_t input_left_shift; /**< left shift of each difference before the multiply, in [0, 31] */
    int32_t diff_min;         /**< the smallest difference (<= 0) that still counts */
} hk_softmax_params;

/** @brief Scratch memory for kernels that need it; its size from the kernel's
 *         *_get_buffer_size. A kernel checks it only when that size is > 0 (then buf must not
 *         be NULL and size must be at least that); otherwise it may be passed as NULL. */
typedef struct {
    void *buf;    /**< the scratch buffer, or NULL when none is needed */
    int32_t size; /**< its size in bytes */
} hk_context;

#endif
