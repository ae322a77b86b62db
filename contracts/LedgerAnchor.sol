// SPDX-License-Identifier: Apache-2.0
// LedgerAnchor: a public, append-only record of a Medallion ledger's checkpoints
// (docs/scale-out.md "Anchoring on an EVM chain").
//
// The one writer (the ledger node's anchoring address, fixed at deployment) records
// (origin hash, tree size, root hash) triples. Every write is kept, in order: a second anchor
// at a size already anchored is stored and emitted like the first, so that a ledger that
// signs two roots for one size leaves evidence of its split view on the chain for anyone to
// read. Writes from any other address revert. Verifiers still check each anchor's recorded
// sender and the contract's writer against the address they expect.
pragma solidity 0.8.28;

contract LedgerAnchor {
    struct Anchor {
        bytes32 originHash;  // SHA-256 of the log's origin line
        uint64 size;         // tree size of the anchored checkpoint
        bytes32 root;        // RFC 9162 root hash at that size
        address sender;      // msg.sender of the anchoring transaction
        uint64 blockNumber;  // block that recorded it
    }

    address public immutable writer;
    Anchor[] private anchors_;

    event Anchored(bytes32 indexed originHash, uint64 indexed size, bytes32 root,
                   address indexed sender, uint256 index);

    error NotWriter(address sender);

    constructor(address writer_) {
        writer = writer_;
    }

    function anchor(bytes32 originHash, uint64 size, bytes32 root) external {
        if (msg.sender != writer) revert NotWriter(msg.sender);
        anchors_.push(Anchor(originHash, size, root, msg.sender, uint64(block.number)));
        emit Anchored(originHash, size, root, msg.sender, anchors_.length - 1);
    }

    function anchorCount() external view returns (uint256) {
        return anchors_.length;
    }

    function anchorAt(uint256 index)
        external
        view
        returns (bytes32 originHash, uint64 size, bytes32 root, address sender, uint64 blockNumber)
    {
        Anchor storage a = anchors_[index];
        return (a.originHash, a.size, a.root, a.sender, a.blockNumber);
    }
}
