// node:buffer for procgate's JavaScript guests: the `Buffer` that
// node:child_process hands out for output (a Uint8Array whose `toString`
// decodes, so `data += chunk` and `chunk.toString()` work as in Node).
// Encodings: utf8 (utf-8), latin1 (binary), ascii, hex, base64. A small
// Buffer: from, alloc, concat, isBuffer, byteLength, toString, equals,
// slice (a view, as in Node); not the whole of Node's.

const ENCODINGS = ['utf8', 'utf-8', 'latin1', 'binary', 'ascii', 'hex', 'base64'];

function encodingOf(encoding) {
  const e = String(encoding ?? 'utf8').toLowerCase();
  if (!ENCODINGS.includes(e)) {
    const error = new TypeError(`Unknown encoding: ${encoding}`);
    error.code = 'ERR_UNKNOWN_ENCODING';
    throw error;
  }
  return e === 'utf-8' ? 'utf8' : e === 'binary' ? 'latin1' : e;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function encode(string, encoding) {
  switch (encodingOf(encoding)) {
    case 'utf8':
      return new TextEncoder().encode(string);
    case 'latin1':
    case 'ascii':
      return Uint8Array.from(string, (c) => c.charCodeAt(0) & 0xff);
    case 'hex': {
      const out = new Uint8Array(string.length >> 1);
      for (let i = 0; i < out.length; i++) out[i] = parseInt(string.substr(i * 2, 2), 16);
      return out;
    }
    case 'base64': {
      const clean = string.replace(/[^A-Za-z0-9+/]/g, '');
      const out = [];
      for (let i = 0; i + 1 < clean.length; i += 4) {
        const n = [0, 1, 2, 3].map((j) => (i + j < clean.length ? B64.indexOf(clean[i + j]) : 0));
        const bits = (n[0] << 18) | (n[1] << 12) | (n[2] << 6) | n[3];
        out.push((bits >> 16) & 0xff);
        if (i + 2 < clean.length) out.push((bits >> 8) & 0xff);
        if (i + 3 < clean.length) out.push(bits & 0xff);
      }
      return Uint8Array.from(out);
    }
  }
}

export class Buffer extends Uint8Array {
  static from(value, encodingOrOffset, length) {
    if (typeof value === 'string') {
      const bytes = encode(value, encodingOrOffset);
      return new Buffer(bytes.buffer, bytes.byteOffset, bytes.length);
    }
    if (value instanceof ArrayBuffer) return new Buffer(value, encodingOrOffset ?? 0, length ?? value.byteLength - (encodingOrOffset ?? 0));
    const out = new Buffer(value.length);
    out.set(value);
    return out;
  }

  /** A Buffer over the same memory as `bytes` (no copy). */
  static view(bytes) {
    return new Buffer(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  static alloc(size, fill = 0) {
    return new Buffer(size).fill(typeof fill === 'number' ? fill : 0);
  }

  static isBuffer(value) {
    return value instanceof Buffer;
  }

  static isEncoding(encoding) {
    return ENCODINGS.includes(String(encoding).toLowerCase());
  }

  static byteLength(value, encoding) {
    return typeof value === 'string' ? encode(value, encoding).length : value.byteLength;
  }

  static concat(list, totalLength) {
    const total = totalLength ?? list.reduce((n, b) => n + b.length, 0);
    const out = Buffer.alloc(total);
    let offset = 0;
    for (const b of list) {
      if (offset >= total) break;
      out.set(b.subarray(0, total - offset), offset);
      offset += b.length;
    }
    return out;
  }

  toString(encoding, start = 0, end = this.length) {
    const bytes = this.subarray(start, end);
    switch (encodingOf(encoding)) {
      case 'utf8':
        return new TextDecoder().decode(bytes);
      case 'latin1':
        return Array.from(bytes, (b) => String.fromCharCode(b)).join('');
      case 'ascii':
        return Array.from(bytes, (b) => String.fromCharCode(b & 0x7f)).join('');
      case 'hex':
        return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      case 'base64': {
        let out = '';
        for (let i = 0; i < bytes.length; i += 3) {
          const bits = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
          out += B64[(bits >> 18) & 63] + B64[(bits >> 12) & 63];
          out += i + 1 < bytes.length ? B64[(bits >> 6) & 63] : '=';
          out += i + 2 < bytes.length ? B64[bits & 63] : '=';
        }
        return out;
      }
    }
  }

  toJSON() {
    return { type: 'Buffer', data: Array.from(this) };
  }

  equals(other) {
    return this.length === other.length && this.every((b, i) => b === other[i]);
  }

  /** As in Node: a view of the same memory (Uint8Array's `slice` copies). */
  slice(start, end) {
    return this.subarray(start, end);
  }
}

export default { Buffer };
