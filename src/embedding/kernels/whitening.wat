;; The two passes over the vectors of learning whitening (src/embedding/whitening-kernel.ts lays out the
;; memory), 128-bit SIMD, two f64 per lane pair:
;; - scatter: target += weight · Σ d dᵀ over f64 vectors d, four at a time, on the upper triangle of a
;;   row-major matrix; the sums and their order are those of the JavaScript loop it replaced (each product
;;   rounded, then added in the same order), so the result is the same to the bit;
;; - covariance: out += Σ w x with w = x · u − shift, over f32 vectors x (widened to f64), for the
;;   eigensolver's products with the covariance.
(module
  (memory (export "memory") 1)
  ;; $count vectors (a multiple of 4) of $stride f64 each at $deltas; $target is $stride × $stride f64.
  ;; $stride is even; row i is updated from column i rounded down to even (the one lower-triangle value
  ;; this touches is never read: the caller mirrors the upper triangle).
  (func (export "scatter") (param $target i32) (param $deltas i32) (param $count i32) (param $stride i32) (param $weight f64)
    (local $bytes i32) (local $d0 i32) (local $d1 i32) (local $d2 i32) (local $d3 i32) (local $end i32)
    (local $i i32) (local $row i32) (local $j i32) (local $p i32) (local $rowEnd i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $bytes (i32.shl (local.get $stride) (i32.const 3)))
    (local.set $d0 (local.get $deltas))
    (local.set $end (i32.add (local.get $deltas) (i32.mul (local.get $count) (local.get $bytes))))
    (block $done (loop $block
      (br_if $done (i32.ge_u (local.get $d0) (local.get $end)))
      (local.set $d1 (i32.add (local.get $d0) (local.get $bytes)))
      (local.set $d2 (i32.add (local.get $d1) (local.get $bytes)))
      (local.set $d3 (i32.add (local.get $d2) (local.get $bytes)))
      (local.set $i (i32.const 0))
      (block $rowsDone (loop $eachRow
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $stride)))
        (local.set $p (i32.shl (local.get $i) (i32.const 3)))
        (local.set $a0 (f64x2.splat (f64.mul (f64.load (i32.add (local.get $d0) (local.get $p))) (local.get $weight))))
        (local.set $a1 (f64x2.splat (f64.mul (f64.load (i32.add (local.get $d1) (local.get $p))) (local.get $weight))))
        (local.set $a2 (f64x2.splat (f64.mul (f64.load (i32.add (local.get $d2) (local.get $p))) (local.get $weight))))
        (local.set $a3 (f64x2.splat (f64.mul (f64.load (i32.add (local.get $d3) (local.get $p))) (local.get $weight))))
        (local.set $row (i32.add (local.get $target) (i32.mul (local.get $i) (local.get $bytes))))
        (local.set $rowEnd (i32.add (local.get $row) (local.get $bytes)))
        ;; byte offset of column (i rounded down to even)
        (local.set $j (i32.shl (i32.and (local.get $i) (i32.const -2)) (i32.const 3)))
        (local.set $p (i32.add (local.get $row) (local.get $j)))
        (block $cellsDone (loop $cells
          (br_if $cellsDone (i32.ge_u (local.get $p) (local.get $rowEnd)))
          (v128.store (local.get $p) (f64x2.add (v128.load (local.get $p))
            (f64x2.add (f64x2.add (f64x2.add
              (f64x2.mul (local.get $a0) (v128.load (i32.add (local.get $d0) (local.get $j))))
              (f64x2.mul (local.get $a1) (v128.load (i32.add (local.get $d1) (local.get $j)))))
              (f64x2.mul (local.get $a2) (v128.load (i32.add (local.get $d2) (local.get $j)))))
              (f64x2.mul (local.get $a3) (v128.load (i32.add (local.get $d3) (local.get $j)))))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $cells)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $eachRow)))
      (local.set $d0 (i32.add (local.get $d3) (local.get $bytes)))
      (br $block))))
;; $count f32 vectors of $stride values (a multiple of 4, the padding zero) at $vectors; $u and $out
  ;; hold $stride f64. Adds w · x to $out for each vector x, w = x · u − $shift, and returns Σ w.
  (func (export "covariance") (param $vectors i32) (param $count i32) (param $stride i32) (param $u i32) (param $shift f64) (param $out i32) (result f64)
    (local $end i32) (local $rowEnd i32) (local $x i32) (local $j i32) (local $weights f64) (local $w f64)
    (local $s0 v128) (local $s1 v128) (local $wv v128)
    (local.set $end (i32.add (local.get $vectors) (i32.mul (local.get $count) (i32.shl (local.get $stride) (i32.const 2)))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $vectors) (local.get $end)))
      (local.set $rowEnd (i32.add (local.get $vectors) (i32.shl (local.get $stride) (i32.const 2))))
      ;; x · u, two partial sums of two lanes each
      (local.set $s0 (f64x2.splat (f64.const 0)))
      (local.set $s1 (f64x2.splat (f64.const 0)))
      (local.set $x (local.get $vectors))
      (local.set $j (local.get $u))
      (block $dotDone (loop $dot
        (br_if $dotDone (i32.ge_u (local.get $x) (local.get $rowEnd)))
        (local.set $s0 (f64x2.add (local.get $s0)
          (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))) (v128.load (local.get $j)))))
        (local.set $s1 (f64x2.add (local.get $s1)
          (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $x))) (v128.load offset=16 (local.get $j)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 32)))
        (br $dot)))
      (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
      (local.set $w (f64.sub (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))) (local.get $shift)))
      (local.set $weights (f64.add (local.get $weights) (local.get $w)))
      ;; out += w · x
      (local.set $wv (f64x2.splat (local.get $w)))
      (local.set $x (local.get $vectors))
      (local.set $j (local.get $out))
      (block $axpyDone (loop $axpy
        (br_if $axpyDone (i32.ge_u (local.get $x) (local.get $rowEnd)))
        (v128.store (local.get $j) (f64x2.add (v128.load (local.get $j))
          (f64x2.mul (local.get $wv) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))))))
        (v128.store offset=16 (local.get $j) (f64x2.add (v128.load offset=16 (local.get $j))
          (f64x2.mul (local.get $wv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $x))))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 32)))
        (br $axpy)))
      (local.set $vectors (local.get $rowEnd))
      (br $each)))
    (local.get $weights))
)
