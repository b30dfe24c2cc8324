;; The two passes of findthis' separable resize (src/imaging/resize.ts works out the filter weights).
;; Arithmetic is f64, in the order the TypeScript loops used, so the results are the same bit for bit:
;; the int8 encoder turns even 1e-6 differences in its input into visible changes for some photos.
(module
  (memory (export "memory") 1)
  ;; Vertical pass for one output row: row[i] = Σ_k src[base + k·stride + i] · w[k], i < len, as f64,
  ;; four bytes at a time (two f64x2 halves); reads up to 3 bytes past len.
  (func (export "vertical") (param $base i32) (param $stride i32) (param $len i32) (param $row i32) (param $w i32) (param $n i32)
    (local $i i32) (local $k i32) (local $p i32) (local $bytes v128) (local $weight v128) (local $low v128) (local $high v128)
    (local.set $i (i32.const 0))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (local.set $low (v128.const f64x2 0 0))
      (local.set $high (v128.const f64x2 0 0))
      (local.set $k (i32.const 0))
      (local.set $p (i32.add (local.get $base) (local.get $i)))
      (block $taps (loop $tap
        (br_if $taps (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $bytes (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p)))))
        (local.set $weight (f64x2.splat (f64.load (i32.add (local.get $w) (i32.shl (local.get $k) (i32.const 3))))))
        (local.set $low (f64x2.add (local.get $low) (f64x2.mul (f64x2.convert_low_i32x4_u (local.get $bytes)) (local.get $weight))))
        (local.set $high (f64x2.add (local.get $high) (f64x2.mul
          (f64x2.convert_low_i32x4_u (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $bytes) (local.get $bytes)))
          (local.get $weight))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $tap)))
      (v128.store (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 3))) (local.get $low))
      (v128.store offset=16 (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 3))) (local.get $high))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $each))))
  ;; Horizontal pass for one output row: for x < outW, count[x] taps from pixel first[x] of the f64 RGB row
  ;; with weights w[x·taps + k]; R, G, B × gain + bias stored as f32 at out + 4x, one plane (`plane` bytes) apart.
  (func (export "horizontal") (param $row i32) (param $outW i32) (param $first i32) (param $count i32) (param $w i32) (param $taps i32)
        (param $out i32) (param $plane i32)
        (param $gr f64) (param $gg f64) (param $gb f64) (param $br f64) (param $bg f64) (param $bb f64)
    (local $x i32) (local $k i32) (local $m i32) (local $p i32) (local $wp i32) (local $weight f64)
    (local $rg v128) (local $b f64) (local $o i32)
    (local.set $x (i32.const 0))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $x) (local.get $outW)))
      (local.set $p (i32.add (local.get $row) (i32.mul (i32.load (i32.add (local.get $first) (i32.shl (local.get $x) (i32.const 2)))) (i32.const 24))))
      (local.set $m (i32.load (i32.add (local.get $count) (i32.shl (local.get $x) (i32.const 2)))))
      (local.set $wp (i32.add (local.get $w) (i32.shl (i32.mul (local.get $x) (local.get $taps)) (i32.const 3))))
      ;; R and G in the two lanes of one f64x2 (each lane sums in the scalar order), B alone.
      (local.set $rg (v128.const f64x2 0 0)) (local.set $b (f64.const 0))
      (local.set $k (i32.const 0))
      (block $taps (loop $tap
        (br_if $taps (i32.ge_u (local.get $k) (local.get $m)))
        (local.set $weight (f64.load (local.get $wp)))
        (local.set $rg (f64x2.add (local.get $rg) (f64x2.mul (v128.load (local.get $p)) (f64x2.splat (local.get $weight)))))
        (local.set $b (f64.add (local.get $b) (f64.mul (f64.load offset=16 (local.get $p)) (local.get $weight))))
        (local.set $p (i32.add (local.get $p) (i32.const 24)))
        (local.set $wp (i32.add (local.get $wp) (i32.const 8)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $tap)))
      (local.set $o (i32.add (local.get $out) (i32.shl (local.get $x) (i32.const 2))))
      (f32.store (local.get $o) (f32.demote_f64 (f64.add (f64.mul (f64x2.extract_lane 0 (local.get $rg)) (local.get $gr)) (local.get $br))))
      (f32.store (i32.add (local.get $o) (local.get $plane)) (f32.demote_f64 (f64.add (f64.mul (f64x2.extract_lane 1 (local.get $rg)) (local.get $gg)) (local.get $bg))))
      (f32.store (i32.add (local.get $o) (i32.shl (local.get $plane) (i32.const 1))) (f32.demote_f64 (f64.add (f64.mul (local.get $b) (local.get $gb)) (local.get $bb))))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br $each))))
)
