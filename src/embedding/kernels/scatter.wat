;; The scatter sum of learning whitening (src/embedding/scatter-kernel.ts lays out the memory):
;; target += weight · Σ d dᵀ over f64 vectors d, four at a time, on the upper triangle of a row-major
;; matrix. 128-bit SIMD, two f64 per lane pair: the sums and their order are those of the JavaScript loop
;; it replaces (each product rounded, then added in the same order), so the result is the same to the bit.
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
)
