/** The SDK version, part of every data-migration checkpoint's fingerprint. */
export const SDK_VERSION = '0.1.0';
