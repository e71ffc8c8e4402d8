import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class NodeDto {
  @ApiProperty({ example: 'n1' }) id!: string;
  @ApiProperty({ example: 'leader', description: 'As the node reports it; "unknown" when never heard' }) role!: string;
  @ApiProperty({ description: 'Heard within the last 3 s and not killed' }) alive!: boolean;
  @ApiPropertyOptional({ description: 'Raft term the node reports (raft clusters)' }) term?: number;
  @ApiPropertyOptional({ description: 'PBFT view the node reports (pbft clusters)' }) view?: number;
  @ApiProperty({ type: String, nullable: true, description: 'Who the node believes leads' }) leader!: string | null;
  @ApiProperty() commitIndex!: number;
  @ApiProperty({ description: 'Last applied log index (PBFT: last executed sequence number)' }) appliedIndex!: number;
  @ApiProperty() isolated!: boolean;
  @ApiProperty({ example: 'none' }) byzantine!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'ms since the last beacon' }) lastSeenMs!: number | null;
  @ApiProperty({ type: Number, nullable: true }) pid!: number | null;
  @ApiPropertyOptional() stableCheckpoint?: number;
  @ApiPropertyOptional() digest?: string;
}

export class ClusterDto {
  @ApiProperty({ enum: ['raft', 'pbft'] }) protocol!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Raft leader or PBFT primary; null when none is known' }) leader!: string | null;
  @ApiPropertyOptional({ description: "Raft: the leader's term" }) term?: number;
  @ApiPropertyOptional({ description: 'PBFT: the current view' }) view?: number;
  @ApiProperty({ type: [NodeDto] }) nodes!: NodeDto[];
}
