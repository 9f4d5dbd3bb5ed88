/* The part of QEMU's TCG plugin API (version 1, as in QEMU 7.2) that hk_count.c uses, declared
 * here because Debian's QEMU ships no qemu-plugin.h. The declarations follow QEMU's documentation,
 * "QEMU TCG Plugins" (docs/devel/tcg-plugins.rst) and its API reference for include/qemu/qemu-plugin.h;
 * they must match the ABI of the QEMU that loads the plugin, which checks qemu_plugin_version
 * against the range of versions it supports and refuses the plugin otherwise.
 *
 * The functions are defined by the QEMU executable itself: the plugin is linked as a shared
 * object with undefined references that the dynamic loader resolves against QEMU when QEMU
 * dlopen()s it. */
#ifndef HK_QEMU_PLUGIN_H
#define HK_QEMU_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HK_QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
#define HK_QEMU_PLUGIN_API_VERSION 1

/* Identifies the plugin in every registration. */
typedef uint64_t qemu_plugin_id_t;

/* What QEMU tells the plugin at installation. */
typedef struct {
    const char *target_name;
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;

/* Opaque handles, valid only inside the translation callback. */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
};

enum qemu_plugin_op {
    QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

/* Called once when QEMU loads the plugin; a non-zero return makes QEMU refuse it. argv holds the
 * plugin's options, each as "key=value". */
HK_QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv);

/* Called for every translation block QEMU translates (not for every execution). */
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
/* At translation: call cb each time the block is entered. */
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
/* At translation: add imm to *ptr, as generated code, each time the block is entered. */
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr,
                                              uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
/* Called when QEMU exits (also on SIGTERM, which QEMU turns into an orderly shutdown). */
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

#endif
