;; GeM's sums over a uint8 quantized feature map (src/embedding/gem-kernel.ts lays out the memory):
;; each value goes through a 256-entry f64 table of max((q − zero point)·scale, eps)^p, then either into
;; one integral image per channel (regional GeM, proposals) or one sum per channel (global GeM).
;; Scalar f64, as the JavaScript it replaces: the same sums to the last bit.
(module
  (memory (export "memory") 1)
  ;; For each of $channels channels (their height × width u8 values one after the other at $q), its
  ;; integral image at $out: (height + 1) rows of (width + 1) f64, a zero row and a zero column first.
  (func (export "integral") (param $q i32) (param $table i32) (param $channels i32) (param $height i32) (param $width i32) (param $out i32)
    (local $stride i32) (local $above i32) (local $row i32) (local $rowEnd i32) (local $planeEnd i32) (local $end i32) (local $sum f64)
    (local.set $stride (i32.shl (i32.add (local.get $width) (i32.const 1)) (i32.const 3)))
    (local.set $end (i32.add (local.get $q) (i32.mul (local.get $channels) (i32.mul (local.get $height) (local.get $width)))))
    (block $done (loop $channel
      (br_if $done (i32.ge_u (local.get $q) (local.get $end)))
      ;; the zero row
      (memory.fill (local.get $out) (i32.const 0) (local.get $stride))
      (local.set $above (local.get $out))
      (local.set $row (i32.add (local.get $out) (local.get $stride)))
      (local.set $planeEnd (i32.add (local.get $out) (i32.mul (local.get $stride) (i32.add (local.get $height) (i32.const 1)))))
      (block $rowsDone (loop $eachRow
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $planeEnd)))
        (f64.store (local.get $row) (f64.const 0))
        (local.set $sum (f64.const 0))
        (local.set $rowEnd (i32.add (local.get $row) (local.get $stride)))
        (local.set $row (i32.add (local.get $row) (i32.const 8)))
        (local.set $above (i32.add (local.get $above) (i32.const 8)))
        (block $cellsDone (loop $cell
          (br_if $cellsDone (i32.ge_u (local.get $row) (local.get $rowEnd)))
          (local.set $sum (f64.add (local.get $sum)
            (f64.load (i32.add (local.get $table) (i32.shl (i32.load8_u (local.get $q)) (i32.const 3))))))
          (f64.store (local.get $row) (f64.add (f64.load (local.get $above)) (local.get $sum)))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (local.set $row (i32.add (local.get $row) (i32.const 8)))
          (local.set $above (i32.add (local.get $above) (i32.const 8)))
          (br $cell)))
        (br $eachRow)))
      (local.set $out (local.get $planeEnd))
      (br $channel))))
  ;; out[c] = Σ table[q] over channel c's $spatial values, for each of $channels channels (f64 sums).
  (func (export "sums") (param $q i32) (param $table i32) (param $channels i32) (param $spatial i32) (param $out i32)
    (local $channelEnd i32) (local $end i32) (local $sum f64)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $channels) (i32.const 3))))
    (block $done (loop $channel
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      (local.set $channelEnd (i32.add (local.get $q) (local.get $spatial)))
      (local.set $sum (f64.const 0))
      (block $valuesDone (loop $value
        (br_if $valuesDone (i32.ge_u (local.get $q) (local.get $channelEnd)))
        (local.set $sum (f64.add (local.get $sum)
          (f64.load (i32.add (local.get $table) (i32.shl (i32.load8_u (local.get $q)) (i32.const 3))))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $value)))
      (f64.store (local.get $out) (local.get $sum))
      (local.set $out (i32.add (local.get $out) (i32.const 8)))
      (br $channel)))))
