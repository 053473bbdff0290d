/* The "root's init" of the pib-init sandbox boot test: proves it runs as
 * PID 1 in the switched root, with /run (boot.json), /proc and the node
 * overlay in place. Built static by the test with the system C compiler. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void cat(const char *label, const char *path) {
    char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
    printf("%s=%s%s", label, f ? buf : "MISSING", n && buf[n - 1] == '\n' ? "" : "\n");
}

int main(void) {
    printf("hello from the new root pid=%d\n", (int)getpid());
    cat("hostname", "/etc/hostname");
    cat("os", "/etc/os-release");
    cat("boot.json", "/run/pib/boot.json");
    printf("initramfs-init=%s\n", access("/init", F_OK) == 0 ? "present" : "gone");
    printf("proc=%s\n", access("/proc/self/mounts", R_OK) == 0 ? "yes" : "no");
    fflush(stdout);
    return 0;
}
