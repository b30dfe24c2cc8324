/** Images with more pixels than this (width × height) are refused from their header, before decoding. */
export const DEFAULT_MAX_PIXELS = 50_000_000;
