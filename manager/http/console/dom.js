/** Tiny DOM helpers: elements from tag, attributes and children; text is always text, never HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'className') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function field(label, input) {
  return el('label', {}, label, input);
}

export function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

export const time = (seconds) => new Date(seconds * 1000).toLocaleString();
