/**
 * PII scrubbing (FineWeb's last text stage): e-mail addresses and public IPv4 addresses are
 * replaced by fixed placeholders. Private, loopback, link-local, shared, documentation,
 * multicast and reserved IPv4 ranges are not personal and are left alone; the default IP
 * placeholder is itself a documentation address, so scrubbing twice changes nothing.
 */

export interface PiiConfig {
  enabled: boolean;
  emailPlaceholder: string;
  ipPlaceholder: string;
}

export const DEFAULT_PII: PiiConfig = {
  enabled: true,
  emailPlaceholder: "email@example.com",
  ipPlaceholder: "192.0.2.1",
};

// Bounded repetitions (RFC 5321 limits: local part ≤ 64, labels ≤ 63) keep matching linear
// on long runs of address-like characters.
const EMAIL_RE = /\b[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b/g;
const IPV4_RE =
  /\b(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b/g;

/** True for a globally routable (public) IPv4 address. */
export function isPublicIPv4(a: number, b: number, c: number): boolean {
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false; // this-net, private, loopback, multicast/reserved
  if (a === 100 && b >= 64 && b <= 127) return false; // shared (CGNAT)
  if (a === 169 && b === 254) return false; // link-local
  if (a === 172 && b >= 16 && b <= 31) return false; // private
  if (a === 192 && b === 168) return false; // private
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a === 198 && b === 51 && c === 100) return false; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return false; // TEST-NET-3
  return true;
}

export interface PiiResult {
  text: string;
  emails: number;
  ips: number;
}

/** Replaces e-mail addresses and public IPv4 addresses in `text`. */
export function scrubPii(text: string, cfg: PiiConfig = DEFAULT_PII): PiiResult {
  let emails = 0;
  let ips = 0;
  let out = text;
  if (out.indexOf("@") >= 0) {
    out = out.replace(EMAIL_RE, (m) => {
      if (m === cfg.emailPlaceholder) return m;
      emails++;
      return cfg.emailPlaceholder;
    });
  }
  out = out.replace(
    IPV4_RE,
    (m, a: string, b: string, c: string, _d: string, off: number, s: string) => {
      // not part of a longer dotted number such as a version string 1.2.3.4.5
      if (
        s[off - 1] === "." ||
        (s[off + m.length] === "." && /\d/.test(s[off + m.length + 1] ?? ""))
      )
        return m;
      if (!isPublicIPv4(Number(a), Number(b), Number(c))) return m;
      ips++;
      return cfg.ipPlaceholder;
    },
  );
  return { text: out, emails, ips };
}
