/* hk_count: a QEMU TCG plugin that counts the guest instructions QEMU executes and records the
 * running count each time the guest enters a marker function.
 *
 * Options (-plugin hk_count.so,marker=0x...,out=PATH):
 *   marker=ADDR  address of the marker function (the Thumb bit is ignored); optional
 *   halt=ADDR    address of the function where the guest stops for good; optional
 *   out=PATH     where to write the result (required)
 *   profile=on   also count how often each translated block runs, for a per-function profile
 * The result is one line per marker entry, in order, each written and flushed as the entry happens
 * (so a reader can follow the run), `halt N` likewise when the guest enters the halt function,
 * then `total N` when QEMU exits; with profile=on, before the total, `block ADDR INSNS RUNS` for
 * every block translated (the same address may come more than once: a block translated again has a
 * count of its own).
 *
 * Counting. Each translated block gets an inline 64-bit add of its instruction count, which QEMU
 * generates into the block's own code and runs when the block is entered: no call per block or
 * per instruction, so the emulation barely slows. A block is counted whole when it is entered,
 * which is exact when every entered block runs to its end. Without -icount that holds but for a
 * guest exception raised inside a block (a fault, which fails the run anyway). Under -icount,
 * QEMU lets only a block's last instruction touch a device: an access to a device register in the
 * middle of a block abandons the block there, runs the access alone in a block of its own (which
 * plugins may not instrument), and continues in a new block after it, so the instructions that
 * followed the access in the abandoned block are counted twice. Every device access in the middle
 * of a block adds the same number each time it runs (docs/qemu-plugin.md measures it).
 *
 * Markers. A function is entered by a branch (bl/blx), which ends a translation block, so the
 * block that runs next starts at the function's first instruction. Only blocks whose first
 * instruction is at the marker address get an exec callback, and they get no inline add: the
 * callback first records the count, then adds the block's own instructions. The recorded number
 * is therefore the count of every instruction executed before the marker's first one, whatever
 * order QEMU runs a block's inline operations and callbacks in. Blocks translated again (another
 * flavour of the same code, or after the code cache was flushed) are handled the same way, since
 * the decision is made at every translation.
 *
 * The halt. Blocks that start at the halt address are not counted at all (nor profiled): the
 * guest waits there for an interrupt it never enabled, and when QEMU is stopped, a moment after the
 * run's last UART byte, is the host's business. The total is then the count before the halt's
 * first instruction, the same in every run, once the harness has seen the `halt` line. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hk_qemu_plugin.h"

HK_QEMU_PLUGIN_EXPORT int qemu_plugin_version = HK_QEMU_PLUGIN_API_VERSION;

/* The emulated boards have one core; QEMU runs it on one thread, so plain updates are safe. */
static uint64_t executed;
static uint64_t marker = UINT64_MAX;
static uint64_t halt = UINT64_MAX;
static FILE *out;

/* The profile: one record per translated block, its run count added to inline like the total. */
struct block {
    uint64_t address;
    uint64_t insns;
    uint64_t runs;
};
static int profiling;
static struct block **blocks;
static size_t n_blocks;
static size_t cap_blocks;
static int out_of_memory;

static void profile_block(struct qemu_plugin_tb *tb, uint64_t address, size_t insns)
{
    if (n_blocks == cap_blocks) {
        const size_t cap = cap_blocks ? 2 * cap_blocks : 4096;
        struct block **grown = realloc(blocks, cap * sizeof *blocks);
        if (grown == NULL) {
            out_of_memory = 1;
            return;
        }
        blocks = grown;
        cap_blocks = cap;
    }
    struct block *b = calloc(1, sizeof *b);
    if (b == NULL) {
        out_of_memory = 1;
        return;
    }
    b->address = address;
    b->insns = insns;
    blocks[n_blocks++] = b;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->runs, 1);
}

/* Written before the guest runs on: the vCPU thread that runs this callback is the one that then
 * sends the firmware's next UART bytes, so a record that follows a marker entry never reaches the
 * harness before the entry's line is in the file. */
static void on_marker(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    fprintf(out, "%" PRIu64 "\n", executed);
    fflush(out);
    executed += (uint64_t)(uintptr_t)userdata;
}

static void on_halt(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    (void)userdata;
    fprintf(out, "halt %" PRIu64 "\n", executed);
    fflush(out);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    const size_t n = qemu_plugin_tb_n_insns(tb);
    if (n == 0) {
        return;
    }
    const uint64_t first = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0));
    if (first == halt) {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_halt, QEMU_PLUGIN_CB_NO_REGS, NULL);
        return;
    }
    if (profiling) {
        profile_block(tb, first, n);
    }
    if (first == marker) {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_marker, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
    } else {
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, n);
    }
}

static void write_total(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    for (size_t i = 0; i < n_blocks; i++) {
        fprintf(out, "block %#" PRIx64 " %" PRIu64 " %" PRIu64 "\n", blocks[i]->address, blocks[i]->insns,
                blocks[i]->runs);
    }
    if (out_of_memory) {
        fprintf(out, "profile incomplete: out of memory\n"); /* not a known line: the reader refuses it */
    }
    fprintf(out, "total %" PRIu64 "\n", executed);
    fclose(out);
}

/* An address option's value (the Thumb bit cleared); -1 after saying what is wrong with it. */
static int parse_address(const char *text, uint64_t *address)
{
    char *end;
    *address = strtoull(text, &end, 0) & ~(uint64_t)1;
    if (*end != '\0' || end == text) {
        fprintf(stderr, "hk_count: bad address '%s'\n", text);
        return -1;
    }
    return 0;
}

HK_QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    const char *out_path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "marker=", 7) == 0) {
            if (parse_address(argv[i] + 7, &marker) != 0) {
                return -1;
            }
        } else if (strncmp(argv[i], "halt=", 5) == 0) {
            if (parse_address(argv[i] + 5, &halt) != 0) {
                return -1;
            }
        } else if (strcmp(argv[i], "profile=on") == 0) {
            profiling = 1;
        } else if (strncmp(argv[i], "out=", 4) == 0 && argv[i][4] != '\0') {
            out_path = argv[i] + 4;
        } else {
            fprintf(stderr, "hk_count: unknown option '%s' (known: marker=ADDR, halt=ADDR, out=PATH, profile=on)\n", argv[i]);
            return -1;
        }
    }
    if (out_path == NULL) {
        fprintf(stderr, "hk_count: no out=PATH given\n");
        return -1;
    }
    out = fopen(out_path, "w");
    if (out == NULL) {
        fprintf(stderr, "hk_count: cannot write %s\n", out_path);
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, write_total, NULL);
    return 0;
}
