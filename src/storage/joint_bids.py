"""Suggested joint bids per need (sql/*_joint_bids.sql), written by the ranking job."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from asfmatch.matching.joint_bids import JointBid
from asfmatch.storage.db import Connection


async def replace_groups(
    connection: Connection, need_id: int, groups: Sequence[JointBid], model_version: str
) -> None:
    """Store a need's groups in place of those it had (none: it has none now)."""
    await connection.execute("DELETE FROM joint_bids WHERE need_id = $1", need_id)
    if not groups:
        return
    await connection.executemany(
        """
        INSERT INTO joint_bids (need_id, rank, member_ids, weakest_score, detail, model_version)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        [
            (
                need_id,
                group.rank,
                [m.supplier_id for m in group.members],
                group.weakest_score,
                msgspec.to_builtins(group),
                model_version,
            )
            for group in groups
        ],
    )


async def forget_need(connection: Connection, need_id: int) -> None:
    """Drop a need's groups (it changed, closed or was withdrawn)."""
    await connection.execute("DELETE FROM joint_bids WHERE need_id = $1", need_id)


async def groups_of(connection: Connection, need_id: int) -> list[JointBid]:
    """A need's groups, best first; a group is left out once one of its members is inactive or
    has opted out since it was suggested."""
    rows = await connection.fetch(
        """
        SELECT j.detail FROM joint_bids j
        WHERE j.need_id = $1
          AND NOT EXISTS (
              SELECT 1 FROM supplier_profiles s
              WHERE s.id = ANY (j.member_ids) AND (NOT s.active OR NOT s.joint_bids))
          AND cardinality(j.member_ids) = (
              SELECT count(*) FROM supplier_profiles s WHERE s.id = ANY (j.member_ids))
        ORDER BY j.rank
        """,
        need_id,
    )
    return [msgspec.convert(row["detail"], JointBid) for row in rows]
