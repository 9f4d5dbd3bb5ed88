/**
 * @file hk_nn.h
 * @brief The kernel contract: every function of the hk_kernels library, its parameters, layouts,
 *        checks and statuses.
 *
 * Conventions that hold for every kernel below unless its own block says otherwise:
 *
 * - **Values.** Activations, filters and weights are int8; biases and accumulators int32. The
 *   arithmetic (requantize, rounding, clamping) is that of hk_requant.h and docs/arithmetic.md.
 *   Accumulators wrap modulo 2^32 (the library is built with -fwrapv).
 * - **Layouts.** Activations are NHWC with batch 1, so a tensor of hk_dims (h, w, c) is h * w * c
 *   bytes, channel fastest: value (y, x, ch) is at index (y * w + x) * c + ch. Conv filters are
 *   [C_OUT, KH, KW, C_IN] (OHWI); depthwise filters [KH, KW, C_OUT]; pointwise filters and dense
 *   weights [OUT, IN], row-major.
 * - **filter_dims.** Where a kernel takes filter_dims (conv2d, depthwise), it is (KH, KW, C_IN):
 *   filter_dims->c is the *input* channel count for both, and the output channel count is always
 *   output_dims->c.
 * - **Zero points** travel as offsets: input_offset = -(input zero point), output_offset =
 *   (output zero point). Checked ranges: input_offset in [-127, 128] (a zero point in
 *   [-128, 127]); output_offset in [-128, 127].
 * - **Activation** (hk_activation): the final clamp, in the output's int8 grid. Checked:
 *   -128 <= min <= max <= 127.
 * - **Requantizer** (hk_quant): count is 1 (one multiplier and shift for the whole tensor) or the
 *   number of output channels (one per channel); any other count is refused. Every multiplier
 *   must be >= 0 and every shift in [HK_SHIFT_MIN, HK_SHIFT_MAX] = [-31, 30]. The real scale is
 *   multiplier * 2^(shift - 31). quant->rounding picks how requantize() below rounds:
 *   HK_ROUND_DOUBLE (0) is hk_requantize, gemmlowp's two roundings (a saturating rounding
 *   doubling high multiply, then a rounding divide by 2^-shift), as TFLite's convolutions do;
 *   HK_ROUND_SINGLE (1) is hk_requantize_single, (acc * multiplier + 2^(30 - shift)) >>
 *   (31 - shift) in 64 bits, as TFLite's fully connected does. Every kernel that takes an
 *   hk_quant honours both; any other value is refused (HK_ERR_QUANT).
 * - **Bias** may be NULL, which means a zero bias. It is never checked otherwise.
 * - **Sizes are not checked against buffers.** The kernel trusts that every pointer addresses as
 *   many values as its dims say; it cannot know the buffers' real sizes.
 * - **Checked once, before timing.** Each kernel hk_X has a companion hk_X_check taking the same
 *   arguments: it runs the checks the kernel's block lists, in that order, and returns the id of
 *   the first that fails (hk_check_id, hk_nn_types.h), or HK_CHECK_OK; it writes nothing. The
 *   kernel itself checks nothing and returns HK_OK: call it only with arguments its check
 *   accepted. The runner checks every layer of the model once, before the first timed call, and a
 *   refused layer ends the run with an @error record naming the layer and the check, so the
 *   per-layer counts are the kernels' work alone. The checks are the contract: a kernel variant
 *   replaces kernels, never their checks.
 * - **Statuses** (hk_status in hk_nn_types.h, from a check id by hk_check_status): HK_OK; HK_ERR_NULL for a required pointer that is
 *   NULL; HK_ERR_DIMS for a non-positive size or shapes that disagree; HK_ERR_QUANT for a zero
 *   point, multiplier, shift, activation bound or other quantization parameter (pad2d's fill,
 *   add's left_shift, softmax's diff_min) out of range; HK_ERR_BUFFER for scratch that is
 *   missing or too small (see Scratch). HK_ERR_LAYER is the runtime's, never a check's.
 * - **Scratch** (hk_context, the CMSIS-NN pattern): a kernel that takes ctx needs
 *   *_get_buffer_size(...) bytes of scratch for its shapes, which the caller provides (no kernel
 *   allocates). Its check's last step asks the kernel's public *_get_buffer_size (so, the
 *   linked variant's): when that size is > 0, ctx must not be NULL, ctx->buf must not be NULL
 *   and ctx->size must be at least that size, else HK_CHECK_SCRATCH (HK_ERR_BUFFER); when it is
 *   0, ctx is not read and may be NULL. The portable kernels need 0 for every shape; the code
 *   generator places the scratch a variant asks for at the end of the model's arena.
 * - **Aliasing.** Unless a block says the output may equal an input, the output must not overlap
 *   any input. No kernel allocates, keeps state between calls or uses floating point.
 */
#ifndef HK_NN_H
#define HK_NN_H

#include "hk_nn_types.h"

/** @brief The hk_status a check id stands for: HK_OK for HK_CHECK_OK, else the HK_ERR_* its
 *         enumerator names (hk_nn_types.h). */
hk_status hk_check_status(hk_check_id check);

/**
 * @brief 2-D convolution with stride, dilation and explicit zero-point padding; per-tensor or
 *        per-channel requantization.
 *
 * For each output position (oy, ox) and channel oc:
 * acc = bias[oc] + sum over (ky, kx, ic) of filter[oc][ky][kx][ic] * (input[iy][ix][ic] +
 * input_offset), with iy = oy * stride.h - padding.top + ky * dilation.h and ix likewise; taps
 * that fall in the padding add nothing (as if the input held its zero point there).
 * output[oy][ox][oc] = clamp(requantize(acc, multiplier[q], shift[q]) + output_offset,
 * activation.min, activation.max), q = oc for a per-channel requantizer, else 0.
 *
 * @param[in]  ctx          scratch context of at least *_get_buffer_size bytes; may be NULL
 *                          when that size is 0
 * @param[in]  params       offsets, stride (h, w), dilation (h, w), padding, activation
 * @param[in]  quant        requantizer: count 1 or output_dims->c
 * @param[in]  input_dims   input (H, W, C_IN)
 * @param[in]  input        input tensor [H, W, C_IN]
 * @param[in]  filter_dims  (KH, KW, C_IN); filter_dims->c must equal input_dims->c
 * @param[in]  filter       filter [C_OUT, KH, KW, C_IN], C_OUT = output_dims->c
 * @param[in]  bias         bias [C_OUT], or NULL for none
 * @param[in]  output_dims  output (OH, OW, C_OUT), where
 *                          OH = (H + padding.top + padding.bottom - (KH - 1) * dilation.h - 1)
 *                          / stride.h + 1 and OW likewise with W, left, right, KW, dilation.w
 * @param[out] output       output tensor [OH, OW, C_OUT]; must not overlap input
 *
 * Checks, in order: input, filter, output, filter_dims not NULL; params not NULL; input_dims and
 * output_dims not NULL and each of h, w, c > 0; the offsets in range; the activation (see above);
 * quant, quant->multiplier, quant->shift not NULL, then count, rounding and values; KH, KW,
 * stride and dilation >= 1 in both axes, every padding >= 0, the padded input at least as large
 * as the dilated filter (the numerator of OH and OW >= 0), and OH, OW as above; filter_dims->c
 * == input_dims->c; the scratch context against hk_conv2d_s8_get_buffer_size(input_dims,
 * filter_dims).
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  input, filter, output, filter_dims, params, input_dims, output_dims,
 *                      quant or one of quant's arrays is NULL
 * @retval HK_ERR_DIMS  a dimension of input_dims or output_dims <= 0; KH, KW, a stride or a
 *                      dilation < 1; a negative padding; a filter larger than the padded input;
 *                      OH or OW not as above; filter_dims->c != input_dims->c
 * @retval HK_ERR_QUANT an offset or activation bound out of range; quant->count neither 1 nor
 *                      C_OUT; quant->rounding neither HK_ROUND_DOUBLE nor HK_ROUND_SINGLE; a
 *                      negative multiplier; a shift outside [HK_SHIFT_MIN, HK_SHIFT_MAX]
 * @retval HK_ERR_BUFFER scratch needed (get_buffer_size > 0) and ctx or ctx->buf NULL, or
 *                      ctx->size smaller than needed
 */
hk_status hk_conv2d_s8(const hk_context *ctx, const hk_conv_params *params, const hk_quant *quant,
                       const hk_dims *input_dims, const int8_t *input, const hk_dims *filter_dims,
                       const int8_t *filter, const int32_t *bias, const hk_dims *output_dims,
                       int8_t *output);

/** @brief The checks of hk_conv2d_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_conv2d_s8_check(const hk_context *ctx, const hk_conv_params *params, const hk_quant *quant,
                               const hk_dims *input_dims, const int8_t *input, const hk_dims *filter_dims,
                               const int8_t *filter, const int32_t *bias, const hk_dims *output_dims,
                               int8_t *output);

/**
 * @brief Scratch bytes hk_conv2d_s8 needs for these shapes: the size of the context it must be
 *        given (harness/codegen/calls.py mirrors it for the code generator).
 * @param[in] input_dims   input (H, W, C_IN); not read
 * @param[in] filter_dims  (KH, KW, C_IN); not read
 * @return 0: the portable kernel needs no scratch (ctx may be NULL).
 */
int32_t hk_conv2d_s8_get_buffer_size(const hk_dims *input_dims, const hk_dims *filter_dims);

/**
 * @brief Depthwise 2-D convolution with a channel multiplier, stride, dilation and explicit
 *        zero-point padding; per-tensor or per-channel requantization.
 *
 * With M = C_OUT / C_IN (the channel multiplier), output channel oc reads input channel oc / M
 * only: acc = bias[oc] + sum over (ky, kx) of filter[ky][kx][oc] * (input[iy][ix][oc / M] +
 * input_offset), with iy, ix, the padding and the requantization exactly as for hk_conv2d_s8.
 *
 * @param[in]  ctx          scratch context of at least *_get_buffer_size bytes; may be NULL
 *                          when that size is 0
 * @param[in]  params       offsets, stride (h, w), dilation (h, w), padding, activation
 * @param[in]  quant        requantizer: count 1 or output_dims->c
 * @param[in]  input_dims   input (H, W, C_IN)
 * @param[in]  input        input tensor [H, W, C_IN]
 * @param[in]  filter_dims  (KH, KW, C_IN), as for conv2d: filter_dims->c is the *input* channel
 *                          count and must equal input_dims->c, although the filter's innermost
 *                          extent is C_OUT
 * @param[in]  filter       filter [KH, KW, C_OUT]
 * @param[in]  bias         bias [C_OUT], or NULL for none
 * @param[in]  output_dims  output (OH, OW, C_OUT), C_OUT a multiple of C_IN, OH and OW as for
 *                          hk_conv2d_s8
 * @param[out] output       output tensor [OH, OW, C_OUT]; must not overlap input
 *
 * Checks, in order: as hk_conv2d_s8 up to and including OH and OW; then filter_dims->c ==
 * input_dims->c and C_OUT % C_IN == 0; then the scratch context against
 * hk_depthwise_conv2d_s8_get_buffer_size(input_dims, filter_dims).
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  as for hk_conv2d_s8
 * @retval HK_ERR_DIMS  as for hk_conv2d_s8, and C_OUT not a multiple of C_IN (C_OUT < C_IN
 *                      included)
 * @retval HK_ERR_QUANT as for hk_conv2d_s8
 * @retval HK_ERR_BUFFER as for hk_conv2d_s8
 */
hk_status hk_depthwise_conv2d_s8(const hk_context *ctx, const hk_conv_params *params,
                                 const hk_quant *quant, const hk_dims *input_dims,
                                 const int8_t *input, const hk_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias,
                                 const hk_dims *output_dims, int8_t *output);

/** @brief The checks of hk_depthwise_conv2d_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_depthwise_conv2d_s8_check(const hk_context *ctx, const hk_conv_params *params,
                                         const hk_quant *quant, const hk_dims *input_dims,
                                         const int8_t *input, const hk_dims *filter_dims,
                                         const int8_t *filter, const int32_t *bias,
                                         const hk_dims *output_dims, int8_t *output);

/**
 * @brief Scratch bytes hk_depthwise_conv2d_s8 needs for these shapes: the size of the context it must be
 *        given (harness/codegen/calls.py mirrors it for the code generator).
 * @param[in] input_dims   input (H, W, C_IN); not read
 * @param[in] filter_dims  (KH, KW, C_IN); not read
 * @return 0: the portable kernel needs no scratch (ctx may be NULL).
 */
int32_t hk_depthwise_conv2d_s8_get_buffer_size(const hk_dims *input_dims, const hk_dims *filter_dims);

/**
 * @brief 1x1 convolution (a matrix-vector product per output pixel), with an optional stride
 *        and no padding; per-tensor or per-channel requantization.
 *
 * Output pixel (oy, ox) is computed from input pixel (oy * stride.h, ox * stride.w):
 * acc = bias[oc] + sum over ic of filter[oc][ic] * (input[..][ic] + input_offset), requantized,
 * offset and clamped as for hk_conv2d_s8. There is no filter_dims: the filter is 1x1 and its
 * input channel count is input_dims->c.
 *
 * @param[in]  ctx          scratch context of at least *_get_buffer_size bytes; may be NULL
 *                          when that size is 0
 * @param[in]  params       offsets, stride, dilation, padding, activation; the padding must be
 *                          all zero; the dilation must be >= 1 and has no effect on a 1x1 filter
 * @param[in]  quant        requantizer: count 1 or output_dims->c
 * @param[in]  input_dims   input (H, W, C_IN)
 * @param[in]  input        input tensor [H, W, C_IN]
 * @param[in]  filter       filter [C_OUT, C_IN]
 * @param[in]  bias         bias [C_OUT], or NULL for none
 * @param[in]  output_dims  output (OH, OW, C_OUT), OH = (H - 1) / stride.h + 1,
 *                          OW = (W - 1) / stride.w + 1
 * @param[out] output       output tensor [OH, OW, C_OUT]; must not overlap input
 *
 * Checks, in order: input, filter, output not NULL; then the checks of hk_conv2d_s8 from params
 * to OH and OW, with KH = KW = 1; then every padding == 0; then the scratch context against
 * hk_pointwise_conv2d_s8_get_buffer_size(input_dims).
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  input, filter, output, params, input_dims, output_dims, quant or one of
 *                      quant's arrays is NULL
 * @retval HK_ERR_DIMS  a dimension <= 0; a stride or dilation < 1; a padding that is not zero;
 *                      OH or OW not as above
 * @retval HK_ERR_QUANT as for hk_conv2d_s8
 * @retval HK_ERR_BUFFER as for hk_conv2d_s8
 */
hk_status hk_pointwise_conv2d_s8(const hk_context *ctx, const hk_conv_params *params,
                                 const hk_quant *quant, const hk_dims *input_dims,
                                 const int8_t *input, const int8_t *filter, const int32_t *bias,
                                 const hk_dims *output_dims, int8_t *output);

/** @brief The checks of hk_pointwise_conv2d_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_pointwise_conv2d_s8_check(const hk_context *ctx, const hk_conv_params *params,
                                         const hk_quant *quant, const hk_dims *input_dims,
                                         const int8_t *input, const int8_t *filter, const int32_t *bias,
                                         const hk_dims *output_dims, int8_t *output);

/**
 * @brief Scratch bytes hk_pointwise_conv2d_s8 needs for this input: the size of the context
 *        it must be given (harness/codegen/calls.py mirrors it for the code generator).
 * @param[in] input_dims  input (H, W, C_IN); not read
 * @return 0: the portable kernel needs no scratch (ctx may be NULL).
 */
int32_t hk_pointwise_conv2d_s8_get_buffer_size(const hk_dims *input_dims);

/**
 * @brief Fully connected (dense) layer; per-tensor or per-output requantization.
 *
 * output[o] = clamp(requantize(bias[o] + sum over i of weights[o][i] * (input[i] + input_offset),
 * multiplier[q], shift[q]) + output_offset, activation.min, activation.max), q = o for a
 * per-output requantizer, else 0.
 *
 * @param[in]  ctx          scratch context of at least *_get_buffer_size bytes; may be NULL
 *                          when that size is 0
 * @param[in]  params       input_offset, output_offset, activation
 * @param[in]  quant        requantizer: count 1 or output_size
 * @param[in]  input_size   IN, the number of input values (> 0)
 * @param[in]  input        input vector [IN] (any tensor, read flat)
 * @param[in]  output_size  OUT, the number of output values (> 0)
 * @param[in]  weights      weights [OUT, IN], row-major
 * @param[in]  bias         bias [OUT], or NULL for none
 * @param[out] output       output vector [OUT]; must not overlap input
 *
 * Checks, in order: params, input, weights, output not NULL; input_size and output_size > 0;
 * the offsets in range; the activation; quant, its arrays, its count, rounding and values; the
 * scratch context against hk_fully_connected_s8_get_buffer_size(input_size).
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  params, input, weights, output, quant or one of quant's arrays is NULL
 * @retval HK_ERR_DIMS  input_size or output_size <= 0
 * @retval HK_ERR_QUANT an offset or activation bound out of range; quant->count neither 1 nor
 *                      output_size; quant->rounding neither HK_ROUND_DOUBLE nor
 *                      HK_ROUND_SINGLE; a negative multiplier; a shift outside
 *                      [HK_SHIFT_MIN, HK_SHIFT_MAX]
 * @retval HK_ERR_BUFFER as for hk_conv2d_s8
 */
hk_status hk_fully_connected_s8(const hk_context *ctx, const hk_fc_params *params,
                                const hk_quant *quant, int32_t input_size, const int8_t *input,
                                int32_t output_size, const int8_t *weights, const int32_t *bias,
                                int8_t *output);

/** @brief The checks of hk_fully_connected_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_fully_connected_s8_check(const hk_context *ctx, const hk_fc_params *params,
                                        const hk_quant *quant, int32_t input_size, const int8_t *input,
                                        int32_t output_size, const int8_t *weights, const int32_t *bias,
                                        int8_t *output);

/**
 * @brief Scratch bytes hk_fully_connected_s8 needs for this input size: the size of the
 *        context it must be given (harness/codegen/calls.py mirrors it for the code generator).
 * @param[in] input_size  IN; not read
 * @return 0: the portable kernel needs no scratch (ctx may be NULL).
 */
int32_t hk_fully_connected_s8_get_buffer_size(int32_t input_size);

/**
 * @brief Max pooling per channel; padded positions are left out of the maximum. The output
 *        keeps the input's grid (no requantization), then is clamped to the activation.
 *
 * output[oy][ox][ch] = clamp(max of input[iy][ix][ch] over the in-bounds positions of the
 * window, activation.min, activation.max), iy = oy * stride.h - padding.top + ky for ky in
 * [0, pool->h), ix likewise. Every window holds at least one in-bounds value, because each
 * padding is smaller than the window.
 *
 * @param[in]  params       stride (h, w), padding, activation
 * @param[in]  input_dims   input (H, W, C)
 * @param[in]  input        input tensor [H, W, C]
 * @param[in]  pool         window size (PH, PW)
 * @param[in]  output_dims  output (OH, OW, C), OH = (H + padding.top + padding.bottom - PH)
 *                          / stride.h + 1, OW likewise
 * @param[out] output       output tensor [OH, OW, C]; must not overlap input
 *
 * Checks, in order: input, output not NULL; params, pool not NULL; input_dims and output_dims not
 * NULL and each of h, w, c > 0; the activation; output_dims->c == input_dims->c; padding.top and
 * padding.bottom < PH, padding.left and padding.right < PW; PH, PW and the stride >= 1, every
 * padding >= 0, the padded input at least as large as the window, OH and OW as above.
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  input, output, params, pool, input_dims or output_dims is NULL
 * @retval HK_ERR_DIMS  a dimension <= 0; output channels unlike the input's; a padding as large
 *                      as the window or negative; PH, PW or a stride < 1; a window larger than
 *                      the padded input; OH or OW not as above
 * @retval HK_ERR_QUANT an activation bound out of range
 */
hk_status hk_maxpool2d_s8(const hk_pool_params *params, const hk_dims *input_dims,
                          const int8_t *input, const hk_hw *pool, const hk_dims *output_dims,
                          int8_t *output);

/** @brief The checks of hk_maxpool2d_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_maxpool2d_s8_check(const hk_pool_params *params, const hk_dims *input_dims,
                                  const int8_t *input, const hk_hw *pool, const hk_dims *output_dims,
                                  int8_t *output);

/**
 * @brief Average pooling per channel: the mean of the in-bounds values of each window (padded
 *        positions are left out of the sum and of the count), rounded half away from zero,
 *        in the input's grid, then clamped to the activation.
 *
 * With sum and count over the window's in-bounds positions (count >= 1, as for maxpool):
 * mean = (sum + count / 2) / count when sum >= 0, else (sum - count / 2) / count (C division).
 *
 * @param[in]  params       stride (h, w), padding, activation
 * @param[in]  input_dims   input (H, W, C)
 * @param[in]  input        input tensor [H, W, C]
 * @param[in]  pool         window size (PH, PW)
 * @param[in]  output_dims  output (OH, OW, C), as for hk_maxpool2d_s8
 * @param[out] output       output tensor [OH, OW, C]; must not overlap input
 *
 * Checks: exactly those of hk_maxpool2d_s8, in the same order.
 *
 * @return HK_OK, or the status of the first failing check, as for hk_maxpool2d_s8:
 * @retval HK_ERR_NULL  input, output, params, pool, input_dims or output_dims is NULL
 * @retval HK_ERR_DIMS  as for hk_maxpool2d_s8
 * @retval HK_ERR_QUANT an activation bound out of range
 */
hk_status hk_avgpool2d_s8(const hk_pool_params *params, const hk_dims *input_dims,
                          const int8_t *input, const hk_hw *pool, const hk_dims *output_dims,
                          int8_t *output);

/** @brief The checks of hk_avgpool2d_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_avgpool2d_s8_check(const hk_pool_params *params, const hk_dims *input_dims,
                                  const int8_t *input, const hk_hw *pool, const hk_dims *output_dims,
                                  int8_t *output);

/**
 * @brief Global average pooling: per channel, the mean over H and W of the raw int8 values,
 *        rounded half away from zero as in hk_avgpool2d_s8; the output keeps the input's grid.
 *        No parameters, no activation (the mean is always within int8).
 *
 * @param[in]  input_dims  input (H, W, C)
 * @param[in]  input       input tensor [H, W, C]
 * @param[out] output      output [C]; may equal input (output[ch] overwrites only the first
 *                         pixel's value of channel ch, after that channel is summed), must not
 *                         otherwise overlap it
 *
 * Checks, in order: input, output not NULL; input_dims not NULL and each of h, w, c > 0.
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  input, output or input_dims is NULL
 * @retval HK_ERR_DIMS  a dimension of input_dims <= 0
 */
hk_status hk_global_avgpool2d_s8(const hk_dims *input_dims, const int8_t *input, int8_t *output);

/** @brief The checks of hk_global_avgpool2d_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_global_avgpool2d_s8_check(const hk_dims *input_dims, const int8_t *input, int8_t *output);

/** @brief The largest H * W hk_mean_hw_s8 accepts (2^23): the int32 sum of that many values of
 *         (input + input_offset), each within [-255, 255], cannot overflow. */
#define HK_MEAN_HW_MAX_COUNT 8388608

/**
 * @brief Mean over H and W onto another grid (TFLite MEAN over axes 1 and 2): per channel, the
 *        sum of the offset values, requantized by a scale that holds the division by H * W.
 *
 * For each channel ch: acc = sum over (y, x) of (input[y][x][ch] + input_offset), an int32
 * (|acc| <= 255 * H * W); output[ch] = clamp(requantize(acc, multiplier[q], shift[q]) +
 * output_offset, activation.min, activation.max), q = ch for a per-channel requantizer, else 0.
 * The host derives the requantizer from input_scale / (output_scale * H * W) in double
 * (harness/model/constants.py: mean_hw_requantizer); requantize() is as quant->rounding says.
 *
 * @param[in]  ctx         scratch context of at least *_get_buffer_size bytes; may be NULL when
 *                         that size is 0
 * @param[in]  params      input_offset, output_offset, activation (the full int8 range when the
 *                         layer has no activation)
 * @param[in]  quant       requantizer: count 1 or input_dims->c
 * @param[in]  input_dims  input (H, W, C), H * W <= HK_MEAN_HW_MAX_COUNT
 * @param[in]  input       input tensor [H, W, C]
 * @param[out] output      output [C]; must not overlap input
 *
 * Checks, in order: input, output not NULL; input_dims not NULL and each of h, w, c > 0; H * W
 * <= HK_MEAN_HW_MAX_COUNT; params not NULL; the offsets in range; the activation; quant, its
 * arrays, its count, rounding and values; the scratch context against
 * hk_mean_hw_s8_get_buffer_size(input_dims).
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  input, output, input_dims, params, quant or one of quant's arrays is NULL
 * @retval HK_ERR_DIMS  a dimension of input_dims <= 0; H * W > HK_MEAN_HW_MAX_COUNT
 * @retval HK_ERR_QUANT an offset or activation bound out of range; quant->count neither 1 nor C;
 *                      quant->rounding neither HK_ROUND_DOUBLE nor HK_ROUND_SINGLE; a negative
 *                      multiplier; a shift outside [HK_SHIFT_MIN, HK_SHIFT_MAX]
 * @retval HK_ERR_BUFFER as for hk_conv2d_s8
 */
hk_status hk_mean_hw_s8(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                        const hk_dims *input_dims, const int8_t *input, int8_t *output);

/** @brief The checks of hk_mean_hw_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_mean_hw_s8_check(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                                const hk_dims *input_dims, const int8_t *input, int8_t *output);

/**
 * @brief Scratch bytes hk_mean_hw_s8 needs for this input: the size of the context it must be
 *        given (harness/codegen/calls.py mirrors it for the code generator).
 * @param[in] input_dims  input (H, W, C); not read
 * @return 0: the portable kernel needs no scratch (ctx may be NULL).
 */
int32_t hk_mean_hw_s8_get_buffer_size(const hk_dims *input_dims);

/**
 * @brief Elementwise rescale onto another grid, then the clamp of a fused activation (TFLite's
 *        RELU and RELU6 when the output grid differs from the input's; with the full int8 range,
 *        a plain requantization).
 *
 * output[i] = clamp(requantize(input[i] + input_offset, multiplier[0], shift[0]) + output_offset,
 * activation.min, activation.max). The host derives the requantizer from input_scale /
 * output_scale in double (harness/model/constants.py: rescale_requantizer) and the bounds from
 * the activation in the output grid; requantize() is as quant->rounding says.
 *
 * @param[in]  ctx         scratch context of at least *_get_buffer_size bytes; may be NULL when
 *                         that size is 0
 * @param[in]  params      input_offset, output_offset, activation
 * @param[in]  quant       requantizer: count 1 (one for the whole tensor)
 * @param[in]  size        number of values (> 0)
 * @param[in]  input       input [size]
 * @param[out] output      output [size]; may equal input (in place), must not otherwise overlap it
 *
 * Checks, in order: input, output not NULL; size > 0; params not NULL; the offsets in range; the
 * activation; quant, its arrays, its count (1), rounding and value; the scratch context against
 * hk_requantize_s8_get_buffer_size(size).
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  input, output, params, quant or one of quant's arrays is NULL
 * @retval HK_ERR_DIMS  size <= 0
 * @retval HK_ERR_QUANT an offset or activation bound out of range; quant->count other than 1;
 *                      quant->rounding neither HK_ROUND_DOUBLE nor HK_ROUND_SINGLE; a negative
 *                      multiplier; a shift outside [HK_SHIFT_MIN, HK_SHIFT_MAX]
 * @retval HK_ERR_BUFFER as for hk_conv2d_s8
 */
hk_status hk_requantize_s8(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                           int32_t size, const int8_t *input, int8_t *output);

/** @brief The checks of hk_requantize_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_requantize_s8_check(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                                   int32_t size, const int8_t *input, int8_t *output);

/**
 * @brief Scratch bytes hk_requantize_s8 needs for this size: the size of the context it must be
 *        given (harness/codegen/calls.py mirrors it for the code generator).
 * @param[in] size  number of values; not read
 * @return 0: the portable kernel needs no scratch (ctx may be NULL).
 */
int32_t hk_requantize_s8_get_buffer_size(int32_t size);

/**
 * @brief Standalone ReLU / ReLU6 (or any clamp) on the int8 grid: output[i] = clamp(input[i],
 *        activation->min, activation->max); no requantization.
 *
 * @param[in]  size        number of values (> 0)
 * @param[in]  input       input [size]
 * @param[in]  activation  the clamp bounds, in the tensor's grid
 * @param[out] output      output [size]; may equal input (in place)
 *
 * Checks, in order: input, output not NULL; size > 0; activation not NULL and in range.
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  input, output or activation is NULL
 * @retval HK_ERR_DIMS  size <= 0
 * @retval HK_ERR_QUANT an activation bound out of range
 */
hk_status hk_relu_s8(int32_t size, const int8_t *input, const hk_activation *activation,
                     int8_t *output);

/** @brief The checks of hk_relu_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_relu_s8_check(int32_t size, const int8_t *input, const hk_activation *activation,
                             int8_t *output);

/**
 * @brief Constant 2-D padding: the input copied into the middle of the output, every other
 *        position set to fill (the input zero point, so the padding reads as real zero).
 *
 * @param[in]  input_dims   input (H, W, C)
 * @param[in]  input        input tensor [H, W, C]
 * @param[in]  padding      rows added at the top and bottom, columns at the left and right
 * @param[in]  fill         the value written into the padding, in [-128, 127]
 * @param[in]  output_dims  output (H + top + bottom, W + left + right, C)
 * @param[out] output       output tensor; must not overlap input
 *
 * Checks, in order: input, padding, output not NULL; input_dims and output_dims not NULL and
 * each of h, w, c > 0; fill in [-128, 127]; every padding >= 0 and output_dims exactly as above.
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  input, padding, output, input_dims or output_dims is NULL
 * @retval HK_ERR_DIMS  a dimension <= 0; a negative padding; output_dims not as above
 * @retval HK_ERR_QUANT fill outside [-128, 127]
 */
hk_status hk_pad2d_s8(const hk_dims *input_dims, const int8_t *input, const hk_padding *padding,
                      int32_t fill, const hk_dims *output_dims, int8_t *output);

/** @brief The checks of hk_pad2d_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_pad2d_s8_check(const hk_dims *input_dims, const int8_t *input, const hk_padding *padding,
                              int32_t fill, const hk_dims *output_dims, int8_t *output);

/**
 * @brief Elementwise sum of two int8 tensors of the same size on different grids (TFLite ADD).
 *
 * For each i: a = requantize((input1[i] + input1_offset) << left_shift, input1_multiplier,
 * input1_shift), b likewise for input2, output[i] = clamp(requantize(a + b, output_multiplier,
 * output_shift) + output_offset, activation.min, activation.max).
 *
 * @param[in]  params  the three offsets, the three (multiplier, shift) pairs, left_shift, the
 *                     activation (see hk_add_params)
 * @param[in]  size    number of values in each input and in the output (> 0)
 * @param[in]  input1  first input [size]
 * @param[in]  input2  second input [size]
 * @param[out] output  output [size]; may equal input1 and/or input2 (elementwise)
 *
 * Checks, in order: params, input1, input2, output not NULL; size > 0; input1_offset and
 * input2_offset in [-127, 128] and output_offset in [-128, 127]; the activation; each of the
 * three multipliers >= 0 and shifts in [HK_SHIFT_MIN, HK_SHIFT_MAX]; left_shift in [0, 23] (so
 * that the shifted (value + offset), at most 9 bits, stays within int32).
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  params, input1, input2 or output is NULL
 * @retval HK_ERR_DIMS  size <= 0
 * @retval HK_ERR_QUANT an offset, activation bound, multiplier, shift or left_shift out of range
 */
hk_status hk_add_s8(const hk_add_params *params, int32_t size, const int8_t *input1, const int8_t *input2,
                    int8_t *output);

/** @brief The checks of hk_add_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_add_s8_check(const hk_add_params *params, int32_t size, const int8_t *input1,
                            const int8_t *input2, int8_t *output);

/**
 * @brief Softmax over each row, bit-exact with TFLite's reference integer softmax. The output
 *        grid is fixed: scale 1/256, zero point -128.
 *
 * Per row: the differences to the row's maximum, scaled by input_multiplier after a left shift
 * of input_left_shift, give exp() in fixed point; values whose difference is below diff_min
 * contribute nothing to the sum and get -128. The sum is held in Q12.19, which is why depth is
 * limited to 4095.
 *
 * @param[in]  params  input_multiplier, input_left_shift, diff_min (see hk_softmax_params)
 * @param[in]  rows    number of rows (> 0)
 * @param[in]  depth   values per row, in [1, 4095]
 * @param[in]  input   input [rows, depth]
 * @param[out] output  output [rows, depth]; may equal input (each value is read before it is
 *                     overwritten), must not otherwise overlap it
 *
 * Checks, in order: params, input, output not NULL; rows > 0 and depth in [1, 4095];
 * input_multiplier >= 0, input_left_shift in [0, 31] (not the HK_SHIFT range), diff_min <= 0.
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  params, input or output is NULL
 * @retval HK_ERR_DIMS  rows <= 0, depth <= 0 or depth > 4095
 * @retval HK_ERR_QUANT a negative input_multiplier, input_left_shift outside [0, 31], or a
 *                      positive diff_min
 */
hk_status hk_softmax_s8(const hk_softmax_params *params, int32_t rows, int32_t depth, const int8_t *input,
                        int8_t *output);

/** @brief The checks of hk_softmax_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_softmax_s8_check(const hk_softmax_params *params, int32_t rows, int32_t depth,
                                const int8_t *input, int8_t *output);

/**
 * @brief Lookup-table activation (sigmoid, tanh, ...): output[i] = table[input[i] + 128]. The
 *        table, built on the host, maps every int8 input to its int8 output.
 *
 * @param[in]  size    number of values (> 0)
 * @param[in]  input   input [size]
 * @param[in]  table   256 values; entry k is the output for input k - 128
 * @param[out] output  output [size]; may equal input (in place)
 *
 * Checks, in order: input, table, output not NULL; size > 0.
 *
 * @return HK_OK. Its check returns HK_CHECK_OK, or a failing check whose status is:
 * @retval HK_ERR_NULL  input, table or output is NULL
 * @retval HK_ERR_DIMS  size <= 0
 */
hk_status hk_lut_s8(int32_t size, const int8_t *input, const int8_t *table, int8_t *output);

/** @brief The checks of hk_lut_s8, as its block lists them, in order: HK_CHECK_OK, or the id of the
 *         first that fails (hk_check_status gives its status). */
hk_check_id hk_lut_s8_check(int32_t size, const int8_t *input, const int8_t *table, int8_t *output);

#endif
