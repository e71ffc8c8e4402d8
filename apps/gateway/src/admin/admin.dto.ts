import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BYZANTINE_BEHAVIORS } from '@app/wire';

export class ByzantineBodyDto {
  @ApiProperty({ enum: BYZANTINE_BEHAVIORS, example: 'equivocate' }) behavior!: string;
}

/** The replica's ControlStatus (or, for a hard kill / respawn, what the supervisor says of the process). */
export class ControlStatusDto {
  @ApiProperty({ example: 'n1' }) id!: string;
  @ApiProperty() alive!: boolean;
  @ApiPropertyOptional() isolated?: boolean;
  @ApiPropertyOptional() byzantine?: string;
  @ApiPropertyOptional() role?: string;
  @ApiPropertyOptional() term?: number;
  @ApiPropertyOptional({ type: String, nullable: true }) leader?: string | null;
  @ApiPropertyOptional() commitIndex?: number;
  @ApiPropertyOptional() appliedIndex?: number;
  @ApiPropertyOptional({ type: Number, nullable: true }) pid?: number | null;
  @ApiPropertyOptional({ description: 'Hard kill / respawn: whether the process runs' }) running?: boolean;
}
