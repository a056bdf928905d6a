const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * An attachment's filename made safe to use on a filesystem: no directories (`../`, `C:\`), no control
 * or reserved characters, no leading dots (hidden files), no Windows device names, at most 255 UTF-8 bytes
 * (the extension kept). Returns `fallback` when nothing usable is left. Never use a sender's filename as-is.
 * @param fallback @default 'attachment'
 */
export function safeFilename(name: string | null | undefined, fallback = 'attachment'): string {
  if (!name) return fallback;
  let base = name.normalize('NFC').split(/[/\\]/).pop() ?? '';
  base = base
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .trim()
    .replace(/^\.+/, '')
    .replace(/[. ]+$/, '');
  if (!base) return fallback;
  if (WINDOWS_RESERVED.test(base)) base = `_${base}`;
  if (Buffer.byteLength(base) > 255) {
    const dot = base.lastIndexOf('.');
    const ext = dot > 0 && base.length - dot <= 16 ? base.slice(dot) : '';
    let stem = base.slice(0, base.length - ext.length);
    while (Buffer.byteLength(stem + ext) > 255) stem = stem.slice(0, -1);
    base = stem + ext;
  }
  return base;
}
