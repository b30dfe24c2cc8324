;; Dot products of one query against many f32 rows (src/indexing/kernel-matrix.ts lays out the memory),
;; and Hamming distances of one query's bit sketch against many (src/indexing/simhash-sketches.ts).
;; 128-bit SIMD, four f32x4 accumulators (16 floats per step) so the adds do not wait on each other;
;; a scan of the catalog is then bound by memory bandwidth, as FAISS's flat index is.
(module
  (memory (export "memory") 1)
  ;; Σ p[i]·q[i] for i < dim, p and q byte addresses of f32 arrays (any alignment, any dim).
  (func $dot (param $p i32) (param $q i32) (param $dim i32) (result f32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $end i32) (local $s f32)
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $dim) (i32.const -16)) (i32.const 2))))
    (block $done16 (loop $by16
      (br_if $done16 (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $p)) (v128.load (local.get $q)))))
      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $p)) (v128.load offset=16 (local.get $q)))))
      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $p)) (v128.load offset=32 (local.get $q)))))
      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $p)) (v128.load offset=48 (local.get $q)))))
      (local.set $p (i32.add (local.get $p) (i32.const 64)))
      (local.set $q (i32.add (local.get $q) (i32.const 64)))
      (br $by16)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $dim) (i32.const 12)) (i32.const 2))))
    (block $done4 (loop $by4
      (br_if $done4 (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $p)) (v128.load (local.get $q)))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $q (i32.add (local.get $q) (i32.const 16)))
      (br $by4)))
    (local.set $a0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
      (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $dim) (i32.const 3)) (i32.const 2))))
    (block $done1 (loop $by1
      (br_if $done1 (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $p)) (f32.load (local.get $q)))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $q (i32.add (local.get $q) (i32.const 4)))
      (br $by1)))
    (local.get $s))
  ;; out[r] = row r of the matrix at $matrix (rows × dim, row-major) · query, for r < rows.
  (func (export "scan") (param $matrix i32) (param $rows i32) (param $dim i32) (param $query i32) (param $out i32)
    (local $stride i32) (local $end i32)
    (local.set $stride (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $rows) (i32.const 2))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      (f32.store (local.get $out) (call $dot (local.get $matrix) (local.get $query) (local.get $dim)))
      (local.set $matrix (i32.add (local.get $matrix) (local.get $stride)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $each))))
  ;; out[j] = row rows[j] of the matrix · query, for j < count ($rows: i32 row numbers).
  (func (export "gather") (param $matrix i32) (param $rows i32) (param $count i32) (param $dim i32) (param $query i32) (param $out i32)
    (local $stride i32) (local $end i32)
    (local.set $stride (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      (f32.store (local.get $out) (call $dot
        (i32.add (local.get $matrix) (i32.mul (i32.load (local.get $rows)) (local.get $stride))) (local.get $query) (local.get $dim)))
      (local.set $rows (i32.add (local.get $rows) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $each))))
  ;; out[j] = Hamming distance between the 256-bit sketch rows[j] and the query's, for j < count, and
  ;; histogram[d] += 1 for each ($sketches: rows of four u64 words; $query: four u64 words, held in
  ;; locals across the loop; $histogram: 257 u32 counts, zeroed by the caller).
  (func (export "hamming256") (param $sketches i32) (param $rows i32) (param $count i32) (param $query i32) (param $out i32) (param $histogram i32)
    (local $end i32) (local $p i32) (local $d i32) (local $h i32)
    (local $q0 i64) (local $q1 i64) (local $q2 i64) (local $q3 i64)
    (local.set $q0 (i64.load (local.get $query)))
    (local.set $q1 (i64.load offset=8 (local.get $query)))
    (local.set $q2 (i64.load offset=16 (local.get $query)))
    (local.set $q3 (i64.load offset=24 (local.get $query)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      (local.set $p (i32.add (local.get $sketches) (i32.shl (i32.load (local.get $rows)) (i32.const 5))))
      (local.set $d (i32.wrap_i64 (i64.add
        (i64.add (i64.popcnt (i64.xor (i64.load (local.get $p)) (local.get $q0)))
                 (i64.popcnt (i64.xor (i64.load offset=8 (local.get $p)) (local.get $q1))))
        (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $p)) (local.get $q2)))
                 (i64.popcnt (i64.xor (i64.load offset=24 (local.get $p)) (local.get $q3)))))))
      (i32.store (local.get $out) (local.get $d))
      (local.set $h (i32.add (local.get $histogram) (i32.shl (local.get $d) (i32.const 2))))
      (i32.store (local.get $h) (i32.add (i32.load (local.get $h)) (i32.const 1)))
      (local.set $rows (i32.add (local.get $rows) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $each))))
  ;; Moves to the front of rows[0 … count−1], in order, those whose distance is below $cut and the first
  ;; $ties at $cut; returns how many.
  (func (export "keep_nearest") (param $rows i32) (param $distances i32) (param $count i32) (param $cut i32) (param $ties i32) (result i32)
    (local $end i32) (local $read i32) (local $write i32) (local $d i32)
    (local.set $end (i32.add (local.get $distances) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $read (local.get $rows))
    (local.set $write (local.get $rows))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $distances) (local.get $end)))
      (local.set $d (i32.load (local.get $distances)))
      (if (i32.or (i32.lt_u (local.get $d) (local.get $cut))
                  (i32.and (i32.eq (local.get $d) (local.get $cut)) (i32.gt_s (local.get $ties) (i32.const 0))))
        (then
          (if (i32.eq (local.get $d) (local.get $cut)) (then (local.set $ties (i32.sub (local.get $ties) (i32.const 1)))))
          (i32.store (local.get $write) (i32.load (local.get $read)))
          (local.set $write (i32.add (local.get $write) (i32.const 4)))))
      (local.set $read (i32.add (local.get $read) (i32.const 4)))
      (local.set $distances (i32.add (local.get $distances) (i32.const 4)))
      (br $each)))
    (i32.shr_u (i32.sub (local.get $write) (local.get $rows)) (i32.const 2)))
)
