/**
 * A one-node Slurm cluster on localhost, for tests and demos (DESIGN.md §3's recipe): munged,
 * slurmctld and slurmd run from a temp folder with their own config, sockets, state and logs,
 * so nothing in /etc is touched. Needs Debian's `slurm-wlm` and `munge`, and root (slurmd
 * starts jobs as the submitting user).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface LocalSlurm {
  /** Path of slurm.conf: set SLURM_CONF to it for sbatch/squeue. */
  conf: string;
  env: NodeJS.ProcessEnv;
  /** Stops the daemons and waits (up to 10 s each, then SIGKILL) until they have exited. */
  stop(): Promise<void>;
}

/** True if the binaries are installed and we are root. */
export function slurmAvailable(): boolean {
  return (
    process.getuid?.() === 0 &&
    ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch"].every((p) =>
      existsSync(p),
    )
  );
}

/** Starts munged, slurmctld and slurmd under `dir`; resolves when the node is idle. */
export async function startLocalSlurm(dir: string, cpus = 2): Promise<LocalSlurm> {
  const mungeDir = join(dir, "munge");
  mkdirSync(mungeDir, { recursive: true });
  chmodSync(mungeDir, 0o755); // munged wants its socket folder not writable by others
  mkdirSync(join(dir, "state"), { recursive: true });
  mkdirSync(join(dir, "spool"), { recursive: true });
  const key = join(mungeDir, "munge.key");
  writeFileSync(key, randomBytes(1024), { mode: 0o600 });
  const sock = join(mungeDir, "munge.sock");
  execFileSync("/usr/sbin/munged", [
    "--force",
    `--key-file=${key}`,
    `--socket=${sock}`,
    `--pid-file=${join(mungeDir, "munged.pid")}`,
    `--log-file=${join(mungeDir, "munged.log")}`,
    `--seed-file=${join(mungeDir, "munge.seed")}`,
  ]);
  const mungePid = Number(readFileSync(join(mungeDir, "munged.pid"), "utf8").trim());
  const port = 20000 + Math.floor(Math.random() * 20000);
  const conf = join(dir, "slurm.conf");
  writeFileSync(
    conf,
    [
      "ClusterName=chatforge",
      "SlurmctldHost=localhost",
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      "SlurmUser=root",
      "SlurmdUser=root",
      "AuthType=auth/munge",
      `AuthInfo=socket=${sock}`,
      "CredType=cred/munge",
      `StateSaveLocation=${join(dir, "state")}`,
      `SlurmdSpoolDir=${join(dir, "spool")}`,
      `SlurmctldPidFile=${join(dir, "slurmctld.pid")}`,
      `SlurmdPidFile=${join(dir, "slurmd.pid")}`,
      `SlurmctldLogFile=${join(dir, "slurmctld.log")}`,
      `SlurmdLogFile=${join(dir, "slurmd.log")}`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_CPU",
      "MailProg=/bin/true",
      "ReturnToService=2",
      `NodeName=localhost CPUs=${cpus} State=UNKNOWN`,
      "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
      "",
    ].join("\n"),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const procs: ChildProcess[] = [
    spawn("/usr/sbin/slurmctld", ["-D", "-f", conf], { env, stdio: "ignore" }),
    spawn("/usr/sbin/slurmd", ["-D", "-N", "localhost", "-f", conf], { env, stdio: "ignore" }),
  ];
  const stop = async () => {
    const exited = procs.map((p) =>
      p.exitCode !== null || p.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const t = setTimeout(() => p.kill("SIGKILL"), 10_000);
            p.once("exit", () => {
              clearTimeout(t);
              resolve();
            });
          }),
    );
    for (const p of procs) if (p.pid && p.exitCode === null) p.kill("SIGTERM");
    try {
      process.kill(mungePid, "SIGTERM");
    } catch {
      // already gone
    }
    await Promise.all(exited);
  };
  const t0 = Date.now();
  for (;;) {
    let state = "";
    try {
      state = execFileSync("sinfo", ["-h", "-o", "%T"], {
        env,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    } catch {
      // controller not up yet
    }
    if (state === "idle") break;
    if (Date.now() - t0 > 30_000) {
      await stop();
      throw new Error(`local Slurm did not come up (state "${state}"); logs in ${dir}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { conf, env, stop };
}
