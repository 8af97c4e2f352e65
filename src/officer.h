/* officer.h - the security officers' commands of the custos tool:
 *
 *   custos quarantine list [filters] [--json]
 *   custos quarantine show ID [--json] [--raw FILE]
 *   custos quarantine release ID --reason TEXT
 *   custos quarantine delete ID --reason TEXT
 *   custos quarantine purge [--older-than DURATION]
 *   custos incidents affected --sender ADDR [--since T] [--until T]
 *                   [--action A,B] [--format csv|json] [--source audit|redis]
 *                   [--audit-log FILE]...
 *
 * Every change (release, delete, purge) and every decrypted copy
 * (show --raw) is written to the audit log and, with Redis, the incident
 * stream, with the officer (--officer NAME, else the sudo user, else the
 * Unix user) and the reason.
 *
 * Each takes argc/argv from the subcommand's own name on and returns the
 * process exit status: 0 done, 1 failed, 2 usage, 78 a bad config. */
#ifndef CUSTOS_OFFICER_H
#define CUSTOS_OFFICER_H

int	officer_quarantine(int argc, char **argv);
int	officer_incidents(int argc, char **argv);

#endif
