/* mm_sysfs.h - the kernel's memory-management directories in sysfs,
 * spelled once. The trailing slash lets a file's path be written as one
 * literal (KSM_DIR "run"), which the knob writers and their journal
 * fields compare by prefix. Every read still goes through the root
 * prefix (mt_path, mt_read_file), so tests point them at a fixture. */
#ifndef MEMTUNED_MM_SYSFS_H
#define MEMTUNED_MM_SYSFS_H

#define KSM_DIR "/sys/kernel/mm/ksm/"
#define THP_DIR "/sys/kernel/mm/transparent_hugepage/"

#endif
