// The objects found in the photo, drawn as labelled regions on an SVG laid over it. The SVG's
// coordinates are the photo's own pixels (the API's boxes), so it scales with the photo.
import { svg } from './dom.js';

/**
 * @typedef {object} FoundObject
 * @property {string} label detector class, or `image` for the whole photo
 * @property {number} score detector confidence, 0..1
 * @property {[number, number, number, number]} bbox x1, y1, x2, y2 in the photo's pixels
 * @property {import('./matches.js').Match[]} matches
 */

/**
 * How an object is named in the page: "1 whole photo", "2 apple", or "3 region" for a region the
 * detector found no class for (label `object`). @param {FoundObject} object @param {number} i
 */
export function objectName(object, i) {
  if (object.label === 'image') return `${i + 1} whole photo`;
  return `${i + 1} ${object.label === 'object' ? 'region' : object.label}`;
}

/**
 * Draws every object's region over the photo; clicking one calls onSelect with its index.
 * Keyboard users choose objects in the list beside the photo, which does the same.
 * @param {SVGSVGElement} layer @param {FoundObject[]} objects @param {number} width @param {number} height
 * @param {(index: number) => void} onSelect
 */
export function drawRegions(layer, objects, width, height, onSelect) {
  layer.setAttribute('viewBox', `0 0 ${width} ${height}`);
  layer.setAttribute('preserveAspectRatio', 'none');
  const fontSize = Math.max(10, Math.round(Math.max(width, height) * 0.035));
  const regions = objects.map((object, i) => {
    const [x1, y1, x2, y2] = object.bbox;
    const name = objectName(object, i);
    // The label sits just inside the box's top-left corner, kept within the photo.
    const tagWidth = fontSize * (0.62 * name.length + 0.6);
    const tagX = Math.min(Math.max(0, x1), Math.max(0, width - tagWidth));
    const tagY = Math.min(Math.max(0, y1), Math.max(0, height - fontSize * 1.3));
    const group = svg('g', { class: `region${object.label === 'image' ? ' whole' : ''}`, 'data-index': i }, [
      svg('title', { text: `${name} (detector score ${object.score.toFixed(2)})` }),
      svg('rect', { class: 'halo', x: x1, y: y1, width: x2 - x1, height: y2 - y1 }),
      svg('rect', { class: 'box', x: x1, y: y1, width: x2 - x1, height: y2 - y1 }),
      svg('rect', { class: 'tag', x: tagX, y: tagY, width: tagWidth, height: fontSize * 1.3, rx: fontSize * 0.2 }),
      svg('text', { x: tagX + fontSize * 0.3, y: tagY + fontSize * 1.0, 'font-size': fontSize, text: name }),
    ]);
    group.addEventListener('click', (event) => {
      event.stopPropagation();
      onSelect(i);
    });
    return group;
  });
  // Drawn in order of size: the whole photo beneath everything, a small box over the large one it sits in.
  const area = (/** @type {number} */ i) => {
    const [x1, y1, x2, y2] = /** @type {FoundObject} */ (objects[i]).bbox;
    return (x2 - x1) * (y2 - y1);
  };
  const order = regions.map((_, i) => i).sort((a, b) => area(b) - area(a));
  layer.replaceChildren(...order.map((i) => /** @type {SVGElement} */ (regions[i])));
}

/** Marks the selected region. @param {SVGSVGElement} layer @param {number} index */
export function highlightRegion(layer, index) {
  let detection = false;
  for (const region of layer.querySelectorAll('.region')) {
    const selected = Number(region.getAttribute('data-index')) === index;
    region.classList.toggle('selected', selected);
    // A selected detection is drawn last, on top of the others (the whole photo stays beneath: it would cover them).
    if (selected && !region.classList.contains('whole')) {
      layer.append(region);
      detection = true;
    }
  }
  // With one detection chosen, the others are drawn dashed.
  layer.classList.toggle('has-selection', detection);
}
