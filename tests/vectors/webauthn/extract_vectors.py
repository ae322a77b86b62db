# Extracts every h'...' value of the §16 Test Vectors of WebAuthn L3 (index.bs) into JSON.
# Usage: python3 extract_vectors.py index.bs webauthn-l3-test-vectors.json
import re, json, sys
text = open(sys.argv[1]).read()
start = text.index('# Test Vectors # {#sctn-test-vectors}')
end = text.index('\n# ', start + 10)
sec = text[start:end]
out = {"source": "W3C Web Authentication Level 3, section 16 Test Vectors: index.bs of github.com/w3c/webauthn at commit 146d0db03cb88e69a8f6f0c3c168221abe73504b (generated there by test-vectors/webauthn-test-vectors.py); every h'...' value of each example, hex as in the spec",
       "rp_id": "example.org", "origin": "https://example.org", "top_origin": "https://example.com", "vectors": []}
parts = re.split(r'\n## (.+?) ## \{#(sctn-test-vectors-[A-Za-z0-9-]+)\}\n', sec)
for i in range(1, len(parts), 3):
    title, sid, body = parts[i], parts[i+1], parts[i+2]
    v = {"id": sid, "title": title}
    blocks = re.findall(r'\[=(registration ceremony\|Registration|authentication ceremony\|Authentication)=\]:\s*<xmp[^>]*>(.*?)</xmp>', body, re.S)
    if not blocks:
        blocks = [("other", b) for b in re.findall(r'<xmp[^>]*>(.*?)</xmp>', body, re.S)]
    for kind, b in blocks:
        k = "registration" if kind.startswith("registration") else ("authentication" if kind.startswith("auth") else "values")
        v[k] = {m.group(1): m.group(2) for m in re.finditer(r"^(\w+) = h'([0-9a-f]*)'", b, re.M)}
    out["vectors"].append(v)
json.dump(out, open(sys.argv[2], 'w'), indent=1)
