import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiProblem } from '../http/api-docs';
import { AdminTokenGuard } from '../admin/admin-token.guard';
import { AddMemberDto, MemberDto, MembersDto, TransferDto } from './members.dto';
import { MembersService } from './members.service';

const MEMBER = { name: 'id', description: 'A member id', example: 'n4' };

@ApiTags('cluster')
@Controller('v1/members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get()
  @ApiOperation({ summary: "The replicated membership (the leader's latest configuration): each member's role and progress" })
  @ApiOkResponse({ type: MembersDto })
  list(): object {
    return this.members.list();
  }
}

/** The admin API's membership routes (Bearer token, like every admin action). */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiProblem(401, 'ADMIN_TOKEN is set and the bearer token is missing or wrong')
@ApiProblem(501, 'The cluster runs PBFT: runtime membership changes are Raft-only for now')
@ApiProblem(503, 'No leader is known, or the new leader is not ready; retry')
@ApiProblem(504, 'The leader did not confirm in time; the change may still take effect (GET /v1/members)')
@Controller('v1/admin')
export class MembersAdminController {
  constructor(private readonly members: MembersService) {}

  @Post('members')
  @HttpCode(200)
  @ApiOperation({ summary: 'Add a replica: as a learner, or as a voter (added as a learner, promoted once caught up). The launcher starts its process.' })
  @ApiOkResponse({ type: MemberDto })
  @ApiProblem(400, 'Bad body (the field is named)')
  @ApiProblem(404, 'Not a provisioned replica identity')
  @ApiProblem(409, 'Already a member, a change is in flight, or the new voter did not catch up in time (it stays a learner)')
  add(@Body() body: AddMemberDto): Promise<object> {
    return this.members.add(body.id, body.role);
  }

  @Post('members/:id/promote')
  @HttpCode(200)
  @ApiOperation({ summary: 'Make a learner a voter; refused while it is behind the leader' })
  @ApiParam(MEMBER)
  @ApiOkResponse({ type: MemberDto })
  @ApiProblem(404, 'Not a member')
  @ApiProblem(409, 'Not a learner, behind the leader, or a change is in flight')
  promote(@Param('id') id: string): Promise<object> {
    return this.members.promote(id);
  }

  @Post('members/:id/demote')
  @HttpCode(200)
  @ApiOperation({ summary: 'Make a voter a learner (the leader too: it steps down once the change commits)' })
  @ApiParam(MEMBER)
  @ApiOkResponse({ type: MemberDto })
  @ApiProblem(404, 'Not a member')
  @ApiProblem(409, 'Not a voter, the last voter, or a change is in flight')
  demote(@Param('id') id: string): Promise<object> {
    return this.members.demote(id);
  }

  @Delete('members/:id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Remove a member (the leader too: it hands off once the change commits); the launcher stops its process' })
  @ApiParam(MEMBER)
  @ApiOkResponse({ type: MemberDto })
  @ApiProblem(404, 'Not a member')
  @ApiProblem(409, 'The last voter, or a change is in flight')
  remove(@Param('id') id: string): Promise<object> {
    return this.members.remove(id);
  }

  @Post('leader/transfer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hand leadership to a voter (thesis §3.10); answers once it leads' })
  @ApiProblem(400, 'Bad body (the field is named)')
  @ApiProblem(404, 'Not a member')
  @ApiProblem(409, 'The target is a learner')
  transfer(@Body() body: TransferDto): Promise<object> {
    return this.members.transfer(body.to);
  }
}
