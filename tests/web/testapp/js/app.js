// The web_tests app: proves that embed_assets.cmake compiles a folder into a binary.
export function greet(name) {
  return `Hello, ${name}`;
}
document.querySelector('h1').textContent = greet('test');
