/* The runner: announce board, counter and model, check every layer's kernel arguments once, run
 * every test sample through every layer timing each one (and checksumming what it wrote, outside
 * the timed span), print the logits, and finish with a status record. */
#include <stdint.h>

#include "hk_counter.h"
#include "hk_crc32.h"
#include "hk_model.h"
#include "hk_nn.h"
#include "hk_platform.h"
#include "hk_record.h"
#include "hk_runner.h"
#include "hk_stack.h"

#ifndef HK_BOARD
#error "HK_BOARD must name the board"
#endif
#ifndef HK_CORE
#error "HK_CORE must name the core"
#endif

void hk_runner_finish(const char *status)
{
    hk_rec_begin("done");
    hk_rec_str("status", status);
    hk_rec_u32("stack_used", hk_stack_used());
    hk_rec_u32("stack_size", hk_stack_size());
    hk_rec_end();
    hk_halt();
}

void hk_halt(void)
{
    for (;;) {
        __asm volatile("wfi");
    }
}

static void announce(hk_counter_kind counter)
{
    const uint32_t a = hk_counter_read();
    const uint32_t b = hk_counter_read();
    hk_rec_begin("boot");
    hk_rec_u32("proto", HK_PROTOCOL_VERSION);
    hk_rec_str("board", HK_BOARD);
    hk_rec_str("core", HK_CORE);
    hk_rec_str("counter", hk_counter_name(counter));
    hk_rec_u32("read_overhead", b - a);
    hk_rec_end();

    hk_rec_begin("model");
    hk_rec_str("name", hk_model.name);
    hk_rec_str("build", hk_model.build_id);
    hk_rec_u32("layers", hk_model.num_layers);
    hk_rec_u32("samples", hk_model.num_samples);
    hk_rec_u32("input", hk_model.input_size);
    hk_rec_u32("output", hk_model.output_size);
    hk_rec_u32("weights", hk_model.weight_bytes);
    hk_rec_u32("arena", hk_model.arena_bytes);
    hk_rec_end();
}

/* The kernels check nothing themselves (hk_nn.h): their checks run here, outside every timed span. */
static void check_layers(void)
{
    for (uint32_t layer = 0; layer < hk_model.num_layers; layer++) {
        const hk_check_id check = hk_model_check_layer(layer);
        if (check != HK_CHECK_OK) {
            hk_rec_begin("error");
            hk_rec_u32("layer", layer);
            hk_rec_u32("status", (uint32_t)hk_check_status(check));
            hk_rec_u32("check", (uint32_t)check);
            hk_rec_end();
            hk_runner_finish("error");
        }
    }
}

int main(void)
{
    hk_platform_init();
    announce(hk_counter_init());
    check_layers();
    for (uint32_t s = 0; s < hk_model.num_samples; s++) {
        const int8_t *sample = hk_model.samples + s * hk_model.input_size;
        for (uint32_t i = 0; i < hk_model.input_size; i++) {
            hk_model.input[i] = sample[i];
        }
        for (uint32_t layer = 0; layer < hk_model.num_layers; layer++) {
            const uint32_t start = hk_counter_read();
            const hk_status status = hk_model_run_layer(layer);
            const uint32_t cycles = hk_counter_read() - start;
            if (status != HK_OK) {
                hk_rec_begin("error");
                hk_rec_u32("sample", s);
                hk_rec_u32("layer", layer);
                hk_rec_u32("status", (uint32_t)status);
                hk_rec_end();
                hk_runner_finish("error");
            }
            const hk_tensor_view *out = &hk_model.layer_outputs[layer];
            hk_rec_begin("layer");
            hk_rec_u32("sample", s);
            hk_rec_u32("index", layer);
            hk_rec_u32("cycles", cycles);
            hk_rec_hex("out_crc", hk_crc32_final(hk_crc32_update(HK_CRC32_INIT, out->data, out->size)));
            hk_rec_end();
        }
        hk_rec_begin("logits");
        hk_rec_u32("sample", s);
        hk_rec_s8_list("v", hk_model.output, hk_model.output_size);
        hk_rec_end();
    }
    hk_runner_finish("ok");
}
